export type ProcErrorCode = 'proc_root_unreadable' | 'invalid_limit';

/**
 * Bad configuration of process attribution: a proc root that is not a readable folder, or a
 * limit that is not a positive number. Lookups themselves never throw; what they cannot find
 * is counted in SocketOwnerStats.
 */
export class ProcError extends Error {
  override readonly name = 'ProcError';

  constructor(readonly code: ProcErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
