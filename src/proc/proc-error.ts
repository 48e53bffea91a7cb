export type ProcErrorCode = 'proc_root_unreadable' | 'invalid_limit'
  | 'connect_records_unavailable';

/**
 * Bad configuration of process attribution: a proc root that is not a readable folder, a limit
 * that is not a positive number, or kernel connect records asked for where they cannot be
 * had. Lookups themselves never throw; what they cannot find is counted in SocketOwnerStats.
 */
export class ProcError extends Error {
  override readonly name = 'ProcError';

  constructor(readonly code: ProcErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
