import type { ProcessInfo } from './process-info.js';
import { SocketOwnerResolver, type SocketOwnerResolverOptions } from './socket-owner-resolver.js';

/**
 * The process that holds socket `inode`, found by one scan of every process, nothing kept
 * afterwards: for a caller that knows the inode (from sock_diag, or an fd it was handed) and
 * looks up rarely. For many lookups keep a SocketOwnerResolver and call its resolveInode, which
 * keeps the index between them.
 */
export function resolveSocketInode(
  inode: number, options: SocketOwnerResolverOptions = {},
): ProcessInfo {
  return new SocketOwnerResolver(options).resolveInode(inode, 0);
}
