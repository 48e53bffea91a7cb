/** The fields of /proc/PID/stat that attribution uses (proc_pid_stat(5)). */
export interface ProcessStat {
  readonly parentProcessId: number;
  /** Field 22: clock ticks after boot when the process started; with the pid, it names one
   * process for good, because a pid is reused only by a later process. */
  readonly startTime: number;
  /**
   * Field 38, exit_signal, is -1: a thread other than its group's leader (the kernel's
   * thread_group_leader() is exit_signal >= 0). /proc/TID of such a thread can be opened
   * although listings of /proc show only leaders.
   */
  readonly isThread: boolean;
}

const CLOSING_PARENTHESIS = 0x29;
const SPACE = 0x20;
const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;
/** Field numbers as proc_pid_stat(5) counts them; comm, field 2, is the one in parentheses. */
const FIRST_FIELD_AFTER_COMM = 3;
const PARENT_PROCESS_ID_FIELD = 4;
const START_TIME_FIELD = 22;
const EXIT_SIGNAL_FIELD = 38;
const MINUS = 0x2d;

/**
 * Parses the text of /proc/PID/stat. comm may contain spaces and parentheses ("(my (weird)
 * proc)") but the kernel writes nothing after it that contains ')', so fields are counted from
 * the last ')'. Undefined when the text is cut short.
 */
export function parseProcessStat(text: Buffer): ProcessStat | undefined {
  const close = text.lastIndexOf(CLOSING_PARENTHESIS);
  if (close === -1) return undefined;
  const fieldsStart = close + 2;
  const parentProcessId = numberField(text, fieldsStart, PARENT_PROCESS_ID_FIELD);
  const startTime = numberField(text, fieldsStart, START_TIME_FIELD);
  if (parentProcessId < 0 || startTime < 0) return undefined;
  const exitSignal = fieldStart(text, fieldsStart, EXIT_SIGNAL_FIELD);
  const isThread = exitSignal !== -1 && text[exitSignal] === MINUS;
  return { parentProcessId, startTime, isThread };
}

/** The offset where field `field` starts, -1 when the text has fewer fields. */
function fieldStart(text: Buffer, fieldsStart: number, field: number): number {
  let at = fieldsStart;
  for (let skipped = FIRST_FIELD_AFTER_COMM; skipped < field; skipped++) {
    at = text.indexOf(SPACE, at) + 1;
    if (at === 0) return -1;
  }
  return at < text.length ? at : -1;
}

/** Field `field` read as a decimal number, -1 when missing. */
function numberField(text: Buffer, fieldsStart: number, field: number): number {
  let at = fieldStart(text, fieldsStart, field);
  if (at === -1) return -1;
  let value = -1;
  for (; at < text.length && text[at] >= DIGIT_ZERO && text[at] <= DIGIT_NINE; at++) {
    value = (value === -1 ? 0 : value * 10) + text[at] - DIGIT_ZERO;
  }
  return value;
}
