export type ConfigErrorCode = 'config_unreadable' | 'config_invalid';

/**
 * Configuration that cannot be used. The message is one line that names the key path (as in
 * `output.sinks[1].url`) and what was expected; the agent prints it and exits with code 2.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly code: ConfigErrorCode, readonly keyPath: string, message: string,
    options?: { cause?: unknown }) {
    super(keyPath === '' ? message : `${keyPath}: ${message}`, options);
  }
}
