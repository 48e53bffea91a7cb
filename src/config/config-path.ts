/** Where `smtp-sensor run` reads its configuration when `--config` names no file. */
export const DEFAULT_CONFIG_PATH = '/etc/smtp-sensor/config.yaml';
