/**
 * The local process that owns a connection's socket, as the event reports it: every value a
 * string, "" when unknown.
 */
export interface ProcessInfo {
  readonly processId: string;
  readonly parentProcessId: string;
  readonly userId: string;
  readonly userName: string;
  /** Full path of the executable (/proc/PID/exe). */
  readonly imageFileName: string;
  /** argv joined by single spaces (/proc/PID/cmdline). */
  readonly commandLine: string;
}

/** No owner known: replayed captures, or a socket no process holds any more. */
export const UNKNOWN_PROCESS: ProcessInfo = Object.freeze({
  processId: '',
  parentProcessId: '',
  userId: '',
  userName: '',
  imageFileName: '',
  commandLine: '',
});
