import { z } from 'zod';
import { SYSLOG_FACILITIES } from '../sinks/network/syslog-message.js';

/** docs/configuration.md documents every key below with its default; keep them in step. */
const MIB = 1024 * 1024;
const port = z.number().int().min(1).max(65535);
const positiveInteger = z.number().int().positive();
const where = z.string().optional();

const batch = z.strictObject({
  max_events: positiveInteger.default(500),
  max_bytes: positiveInteger.max(64 * MIB).default(MIB),
}).prefault({});

const retry = z.strictObject({
  initial_ms: positiveInteger.default(500),
  max_ms: positiveInteger.default(60_000),
}).prefault({});

const stdoutSink = z.strictObject({
  type: z.literal('stdout'),
  name: z.string().min(1).optional(),
  where,
});

const fileSink = z.strictObject({
  type: z.literal('file'),
  name: z.string().min(1).optional(),
  where,
  path: z.string().min(1).default('/var/log/smtp-sensor/events.json'),
  max_bytes: positiveInteger.min(4096).default(100 * MIB),
  keep: z.number().int().min(0).max(1000).default(5),
});

const syslogSink = z.strictObject({
  type: z.literal('syslog'),
  name: z.string().min(1).optional(),
  where,
  host: z.string().min(1),
  port: port.optional(),
  tls: z.boolean().default(false),
  ca_file: z.string().min(1).optional(),
  server_name: z.string().min(1).optional(),
  facility: z.enum(Object.keys(SYSLOG_FACILITIES) as [keyof typeof SYSLOG_FACILITIES])
    .default('local0'),
  app_name: z.string().regex(/^[\x21-\x7e]{1,48}$/).default('smtp-sensor'),
  connect_timeout_ms: positiveInteger.default(5000),
  settle_ms: z.number().int().min(0).default(250),
  batch,
  retry,
});

const httpSink = z.strictObject({
  type: z.literal('http'),
  name: z.string().min(1).optional(),
  where,
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  gzip: z.boolean().default(true),
  token_file: z.string().min(1).optional(),
  ca_file: z.string().min(1).optional(),
  timeout_ms: positiveInteger.default(10_000),
  batch,
  retry,
});

export const sinkSchema = z.discriminatedUnion('type', [stdoutSink, fileSink, syslogSink,
  httpSink]);

export const configSchema = z.strictObject({
  capture: z.strictObject({
    interface: z.string().min(1).default('any'),
    ports: z.array(port).min(1).default([25, 465, 587]),
    inbound: z.boolean().default(false),
    // node_pcap takes the size in bytes as a 32-bit signed integer: 2,047 MiB is the most.
    buffer_mib: positiveInteger.max(2047).default(32),
  }).prefault({}),
  attribution: z.strictObject({
    enabled: z.boolean().default(true),
    connect_records: z.enum(['auto', 'required', 'off']).default('auto'),
  }).prefault({}),
  output: z.strictObject({
    where,
    sinks: z.array(sinkSchema).min(1).default([{ type: 'stdout' }]),
  }).prefault({}),
  spool: z.strictObject({
    directory: z.string().min(1).default('/var/lib/smtp-sensor/spool'),
    max_bytes: positiveInteger.min(MIB).default(256 * MIB),
    segment_bytes: positiveInteger.min(64 * 1024).default(8 * MIB),
    sync_interval_ms: z.number().int().min(0).default(1000),
  }).prefault({}),
  stats: z.strictObject({
    interval_seconds: positiveInteger.default(60),
    prometheus: z.strictObject({
      enabled: z.boolean().default(false),
      listen: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/,
        'expected host:port').default('127.0.0.1:9469'),
      allow_remote: z.boolean().default(false),
    }).prefault({}),
  }).prefault({}),
  logging: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
  }).prefault({}),
});

/** The configuration as read from YAML, with every default filled in. */
export type SensorConfig = z.output<typeof configSchema>;
export type SinkConfig = z.output<typeof sinkSchema>;
export type NetworkSinkConfig = Extract<SinkConfig, { type: 'syslog' | 'http' }>;
