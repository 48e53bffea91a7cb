import type { TcpFlow } from './tcp-flow.js';

/**
 * Flows holding out-of-order bytes, in the order they began to hold them: the first one holds
 * the oldest data, the data given up when the total buffer limit is hit. The list is linked
 * through the flows themselves, so joining and leaving it allocate nothing.
 */
export class WaitingFlows<Session> {
  private first: TcpFlow<Session> | undefined = undefined;
  private last: TcpFlow<Session> | undefined = undefined;

  get oldest(): TcpFlow<Session> | undefined {
    return this.first;
  }

  /** Adds the flow at the end unless it is already in the list. */
  add(flow: TcpFlow<Session>): void {
    if (flow.waiting) return;
    flow.waiting = true;
    flow.olderWaiting = this.last;
    flow.newerWaiting = undefined;
    if (this.last === undefined) this.first = flow;
    else this.last.newerWaiting = flow;
    this.last = flow;
  }

  remove(flow: TcpFlow<Session>): void {
    if (!flow.waiting) return;
    flow.waiting = false;
    const older = flow.olderWaiting;
    const newer = flow.newerWaiting;
    if (older === undefined) this.first = newer;
    else older.newerWaiting = newer;
    if (newer === undefined) this.last = older;
    else newer.olderWaiting = older;
    flow.olderWaiting = undefined;
    flow.newerWaiting = undefined;
  }
}
