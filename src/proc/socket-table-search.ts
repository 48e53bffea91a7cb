/** What findSocketInode returns when no line of the table is the connection. */
export const SOCKET_NOT_LISTED = -1;

const SPACE = 0x20;
const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;

/**
 * After the endpoints, a line of /proc/net/tcp{,6} holds: st, tx_queue:rx_queue, tr:tm->when,
 * retrnsmt, uid, timeout, inode (the same columns for full, TIME_WAIT and SYN_RECV sockets, see
 * get_tcp4_sock, get_timewait4_sock and get_openreq4 in net/ipv4/tcp_ipv4.c).
 */
const COLUMNS_BEFORE_INODE = 6;

/**
 * The inode of the connection's socket in the text of a /proc/net/tcp or tcp6 table, found by
 * its needle (TcpTuple). Returns 0 when the connection is listed only without an inode, which is
 * how the kernel lists sockets that no file refers to: TIME_WAIT and SYN_RECV entries, and
 * sockets closed by their process but not yet gone (sock_i_ino() of an orphan is 0); returns
 * SOCKET_NOT_LISTED when no line is the connection.
 */
export function findSocketInode(table: Buffer, needle: Buffer): number {
  let result = SOCKET_NOT_LISTED;
  for (let at = table.indexOf(needle); at !== -1; at = table.indexOf(needle, at + 1)) {
    const inode = inodeAfter(table, at + needle.length);
    if (inode > 0) return inode;
    result = 0;
  }
  return result;
}

/**
 * The inode of the listening socket whose line a listener needle (TcpTuple.listenerNeedles)
 * finds, or SOCKET_NOT_LISTED. The needle ends after the st column, so one column fewer is
 * skipped to the inode. A listener always has an inode: closing it destroys it.
 */
export function findListenerInode(table: Buffer, needle: Buffer): number {
  const at = table.indexOf(needle);
  if (at === -1) return SOCKET_NOT_LISTED;
  const inode = inodeAfter(table, at + needle.length, COLUMNS_BEFORE_INODE - 1);
  return inode > 0 ? inode : SOCKET_NOT_LISTED;
}

/**
 * The inode column of the line, `columns` columns after `position` (the st column's start for
 * a connection needle); 0 when malformed.
 */
function inodeAfter(table: Buffer, position: number, columns = COLUMNS_BEFORE_INODE): number {
  let at = position;
  for (let column = 0; column < columns; column++) {
    while (at < table.length && table[at] !== SPACE) at++;
    while (at < table.length && table[at] === SPACE) at++;
  }
  let inode = 0;
  for (; at < table.length && table[at] >= DIGIT_ZERO && table[at] <= DIGIT_NINE; at++) {
    inode = inode * 10 + table[at] - DIGIT_ZERO;
  }
  return inode;
}
