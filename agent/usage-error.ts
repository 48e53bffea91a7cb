/** Bad flags or configuration: the agent prints the message on one line and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'usage';
}
