/** A process found holding a socket, as the shared-socket rule compares them. */
export interface SocketHolder {
  readonly pid: number;
  readonly parentProcessId: number;
  /** Clock ticks after boot (/proc/PID/stat field 22). */
  readonly startTime: number;
}

/**
 * The holder a socket held by several processes is attributed to: the youngest by start time;
 * among holders started in the same clock tick, one that is not the parent of another holder;
 * then the highest pid, so that the answer never depends on scan order. A socket is shared
 * after fork() or when passed over a Unix socket; the process made last is the one handed the
 * work (the child of a forking server, the program a wrapper ran), while its parent usually
 * only keeps an inherited copy. A child always starts in the same tick as its parent or later.
 */
export function chooseSocketOwner(holders: readonly SocketHolder[]): SocketHolder {
  let chosen = holders[0];
  for (const holder of holders) {
    if (isPreferred(holder, chosen, holders)) chosen = holder;
  }
  return chosen;
}

function isPreferred(
  candidate: SocketHolder, chosen: SocketHolder, holders: readonly SocketHolder[],
): boolean {
  if (candidate.startTime !== chosen.startTime) return candidate.startTime > chosen.startTime;
  const candidateIsParent = isParentOfAnother(candidate, holders);
  if (candidateIsParent !== isParentOfAnother(chosen, holders)) return !candidateIsParent;
  return candidate.pid > chosen.pid;
}

function isParentOfAnother(holder: SocketHolder, holders: readonly SocketHolder[]): boolean {
  return holders.some((other) => other.parentProcessId === holder.pid);
}
