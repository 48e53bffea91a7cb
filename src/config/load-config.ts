import { accessSync, constants, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { compileQuery } from '../events/query/query-compiler.js';
import { QueryError } from '../events/query/query-error.js';
import { applyOverrides, type ConfigOverrides } from './config-overrides.js';
import { ConfigError } from './config-error.js';
import { configSchema, type SensorConfig } from './config-schema.js';
import { sinkNames } from './sink-names.js';
import { DEFAULT_CONFIG_PATH } from './config-path.js';

export { DEFAULT_CONFIG_PATH };

/**
 * Reads the YAML file, applies the command-line overrides, validates the result and fills in
 * the defaults. Without a path the default file is read, and its absence means all defaults;
 * a path given explicitly must exist. Throws ConfigError naming the key and what was expected.
 */
export function loadConfig(path: string | undefined,
  overrides: ConfigOverrides = {}): SensorConfig {
  const raw = readYaml(path ?? DEFAULT_CONFIG_PATH, path === undefined);
  const result = configSchema.safeParse(applyOverrides(raw ?? {}, overrides));
  if (!result.success) throw describeIssue(result.error.issues[0]);
  checkConsistency(result.data);
  return result.data;
}

function readYaml(path: string, optional: boolean): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError('config_unreadable', '',
      `cannot read configuration ${path}: ${(error as Error).message}`, { cause: error });
  }
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw error;
    // The first line of a pretty error says what is wrong and at which line and column.
    throw new ConfigError('config_invalid', '',
      `${path} is not valid YAML: ${error.message.split('\n')[0].replace(/:$/, '')}`,
      { cause: error });
  }
  if (document !== null && (typeof document !== 'object' || Array.isArray(document))) {
    throw new ConfigError('config_invalid', '(top level)',
      'expected a mapping of sections (capture, output, spool, ...)');
  }
  return document ?? undefined;
}

function describeIssue(issue: z.core.$ZodIssue): ConfigError {
  const path = keyPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const key = keyPath([...issue.path, issue.keys[0]]);
    return new ConfigError('config_invalid', key, 'unknown key (misspelled?)');
  }
  const message = issue.message.replace(/^Invalid input: /, '')
    .replace(/^expected (\w+), received undefined$/, 'missing: expected a $1')
    .replace(/^[A-Z]/, (letter) => letter.toLowerCase());
  return new ConfigError('config_invalid', path === '' ? '(top level)' : path, message);
}

/** `output.sinks[1].url` from ['output', 'sinks', 1, 'url']. */
export function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => typeof part === 'number' ? `${text}[${part}]`
    : text === '' ? String(part) : `${text}.${String(part)}`, '');
}

/** Rules that span several keys, or need the file system or the query compiler. */
function checkConsistency(config: SensorConfig): void {
  checkWhere('output.where', config.output.where);
  const names = sinkNames(config.output.sinks);
  config.output.sinks.forEach((sink, index) => {
    const at = `output.sinks[${index}]`;
    if (names.indexOf(names[index]) !== index) {
      throw new ConfigError('config_invalid', `${at}.name`,
        `expected a name no other sink has, got '${names[index]}' twice`);
    }
    checkWhere(`${at}.where`, sink.where);
    if (sink.type === 'syslog' || sink.type === 'http') {
      checkReadable(`${at}.ca_file`, sink.ca_file);
      if (sink.retry.initial_ms > sink.retry.max_ms) {
        throw new ConfigError('config_invalid', `${at}.retry.initial_ms`,
          `expected at most retry.max_ms (${sink.retry.max_ms}), got ${sink.retry.initial_ms}`);
      }
    }
    if (sink.type === 'http') checkReadable(`${at}.token_file`, sink.token_file);
  });
  checkSpool(config.spool);
  checkPrometheus(config.stats.prometheus);
}

function checkWhere(key: string, expression: string | undefined): void {
  if (expression === undefined) return;
  try {
    compileQuery(expression);
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    throw new ConfigError('config_invalid', key,
      `expected a hunting expression: ${error.message.split('\n')[0]}`, { cause: error });
  }
}

function checkReadable(key: string, path: string | undefined): void {
  if (path === undefined) return;
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new ConfigError('config_invalid', key, `expected a readable file, got '${path}'`,
      { cause: error });
  }
}

function checkSpool(spool: SensorConfig['spool']): void {
  // At least four segments fit under the cap, so that dropping one frees a bounded fraction.
  if (spool.segment_bytes * 4 > spool.max_bytes) {
    throw new ConfigError('config_invalid', 'spool.segment_bytes',
      `expected at most a quarter of spool.max_bytes (${Math.floor(spool.max_bytes / 4)}), `
      + `got ${spool.segment_bytes}`);
  }
}

function checkPrometheus(prometheus: SensorConfig['stats']['prometheus']): void {
  const host = prometheus.listen.slice(0, prometheus.listen.lastIndexOf(':'))
    .replace(/^\[|\]$/g, '');
  const port = Number(prometheus.listen.slice(prometheus.listen.lastIndexOf(':') + 1));
  if (port < 1 || port > 65535) {
    throw new ConfigError('config_invalid', 'stats.prometheus.listen',
      `expected a port from 1 to 65535, got ${port}`);
  }
  const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
  if (!loopback && !prometheus.allow_remote) {
    throw new ConfigError('config_invalid', 'stats.prometheus.listen',
      `expected a loopback address (set allow_remote: true to expose metrics), got '${host}'`);
  }
  if (!loopback && host !== '' && isIP(host) === 0) {
    throw new ConfigError('config_invalid', 'stats.prometheus.listen',
      `expected an IP address, got '${host}'`);
  }
}
