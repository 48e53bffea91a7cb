export type CaptureErrorCode =
  | 'capture_not_found'
  | 'capture_unreadable'
  | 'not_a_capture'
  | 'unsupported_link_type'
  | 'capture_too_large'
  | 'capture_device_error';

/** A capture that cannot be opened or read; the message names the file and the reason. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';

  constructor(readonly code: CaptureErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
