/**
 * Finds the end of message content, the line holding a single dot: CRLF "." CRLF (RFC 5321
 * section 4.1.1.4), wherever segment boundaries cut it. The content before it counts as
 * starting after a CRLF, since the DATA line ended with one, so a first line of "." ends an
 * empty message. A bare LF never ends a line here.
 */
export class EndOfDataScanner {
  private state: number = State.LineStart;

  /** Content begins: the next byte starts a line. */
  reset(): void {
    this.state = State.LineStart;
  }

  /**
   * Reads buf[pos, end): the index just after the end-of-data line when it is there, or -1
   * when every byte was content.
   */
  scan(buf: Buffer, pos: number, end: number): number {
    let state = this.state;
    let i = pos;
    while (i < end) {
      if (state === State.InLine && end - i >= SEARCH_THRESHOLD) {
        const found = searchCrLfDot(buf, i, end);
        if (found < 0) {
          state = stateAfterTail(buf, i, end);
          i = end;
          break;
        }
        i = found + CRLF_DOT.length;
        state = State.Dot;
        continue;
      }
      state = NEXT_STATE[state * 256 + buf[i++]];
      if (state === State.End) {
        this.state = State.LineStart;
        return i;
      }
    }
    this.state = state;
    return -1;
  }

  /** Bytes were lost: whatever comes next is taken as the middle of a line. */
  lostBytes(): void {
    this.state = State.InLine;
  }
}

const State = { LineStart: 0, InLine: 1, AfterCr: 2, Dot: 3, DotCr: 4, End: 5 } as const;
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF_DOT = Buffer.from('\r\n.', 'latin1');
/** Below this many bytes the byte loop is cheaper than making a view to search in. */
const SEARCH_THRESHOLD = 64;

/** Transition table: NEXT_STATE[state * 256 + byte]. */
const NEXT_STATE = buildTransitions();

function buildTransitions(): Uint8Array {
  const table = new Uint8Array(5 * 256).fill(State.InLine);
  for (let state = 0; state < 5; state++) table[state * 256 + CR] = State.AfterCr;
  table[State.AfterCr * 256 + LF] = State.LineStart;
  table[State.LineStart * 256 + DOT] = State.Dot;
  table[State.Dot * 256 + CR] = State.DotCr;
  table[State.DotCr * 256 + LF] = State.End;
  return table;
}

/**
 * Index of the first CRLF "." in buf[start, end), or -1. The search runs on a view that ends
 * at `end`: the capture library's buffer holds stale bytes of earlier packets after it.
 */
function searchCrLfDot(buf: Buffer, start: number, end: number): number {
  const found = buf.subarray(start, end).indexOf(CRLF_DOT);
  return found < 0 ? -1 : start + found;
}

/** The state after content with no CRLF "." in it, read off its last two bytes. */
function stateAfterTail(buf: Buffer, start: number, end: number): number {
  const last = buf[end - 1];
  if (last === CR) return State.AfterCr;
  if (last === LF && end - 2 >= start && buf[end - 2] === CR) return State.LineStart;
  return State.InLine;
}
