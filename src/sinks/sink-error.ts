export type SinkErrorCode =
  | 'spool_unusable'
  | 'sink_output_failed'
  | 'collector_refused'
  | 'collector_unreachable';

/**
 * A sink or the spool failed. Thrown only at construction (a spool directory that cannot be
 * created, an output file that cannot be opened); at run time the same class is what a
 * transport rejects with, and the shipper counts it and retries.
 */
export class SinkError extends Error {
  override readonly name = 'SinkError';

  constructor(readonly code: SinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
