import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ChildProcesses } from '../live/child-processes.js';
import { freePort } from '../live/free-port.js';
import { liveTestRefusal } from '../live/live-prerequisites.js';
import type { SensorLogLine, SensorProcess } from '../live/sensor-process.js';
import { startSmtpServer } from '../live/smtp-server.js';
import { TestCollector } from '../sinks/helpers/test-collector.js';
import { waitFor } from '../sinks/helpers/wait-for.js';
import { type EventRecord, sendSessions } from './mail-client.js';
import { LOOPBACK, logsWithMessage, QUICK_RETRY, readEventFile, startAgent, writeConfig }
  from './service-agent.js';

const SESSIONS = 12;
const EVENT_TIMEOUT_MS = 15_000;
/** The stats line comes every second: a few of them settle within this. */
const STATS_TIMEOUT_MS = 10_000;

/** What the stats line holds, as far as these tests read it. */
interface StatsLine {
  pcap: { received: number; dropped: number };
  capture: { packets: number };
  flows: number;
  events: Record<string, number>;
  attribution: { processes_not_found: number };
  outputs: {
    sinks: Record<string, { written?: number; delivered?: number; send_errors?: number;
      write_errors?: number }>;
    spool: { depth: number };
  };
}

/** One sample of `GET /metrics`: `name{labels}` to value (help and type lines left out). */
type Metrics = Map<string, number>;

async function scrape(port: number): Promise<Metrics> {
  const response = await fetch(`http://${LOOPBACK}:${port}/metrics`);
  assert.equal(response.status, 200);
  const metrics: Metrics = new Map();
  for (const line of (await response.text()).split('\n')) {
    const match = /^(smtp_sensor_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match !== null) metrics.set(match[1], Number(match[2]));
  }
  return metrics;
}

/** The sessions whose events name no process. */
function sessionsWithoutProcess(events: readonly EventRecord[]): number {
  return new Set(events.filter((event) => event.ContextProcessId === '')
    .map((event) => event.SmtpSessionId)).size;
}

function lastStats(sensor: SensorProcess): StatsLine | undefined {
  return logsWithMessage(sensor, 'capture stats').at(-1) as SensorLogLine & StatsLine
    | undefined;
}

const refusal = liveTestRefusal();

describe('the agent\'s periodic stats line and its Prometheus endpoint',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-stats-'));
    const collector = new TestCollector();
    let agent: SensorProcess | undefined;

    after(async () => {
      await agent?.stop();
      await children.stopAll();
      await collector.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    test('count what the clients sent, through an outage of the collector and its end',
      { timeout: 60_000 }, async (t) => {
        collector.refuseWith = 503;
        await collector.start();
        const server = await startSmtpServer(children, { host: LOOPBACK });
        const metricsPort = await freePort(LOOPBACK);
        const config = join(scratch, 'config.yaml');
        writeConfig(config, {
          output: { sinks: [{ type: 'file', path: join(scratch, 'events.json') },
            { type: 'http', name: 'collector', url: collector.url, retry: QUICK_RETRY }] },
          spool: { directory: join(scratch, 'spool') },
          stats: { interval_seconds: 1,
            prometheus: { enabled: true, listen: `${LOOPBACK}:${metricsPort}` } },
        });
        agent = await startAgent(children, config, server.port);
        const sensor = agent;
        const sent = await sendSessions(children, { host: LOOPBACK, port: server.port,
          tag: 'stats', count: SESSIONS });
        assert.equal(sent.exitCode, 0, sent.stderr);
        // Counted from what the client sent: one event per command.
        const commands = sent.keys.length;

        // While the collector refuses: every event in the spool, and the failures counted.
        await sensor.waitFor(() => {
          const stats = lastStats(sensor);
          return stats?.events.SmtpCommand === commands && stats.outputs.spool.depth === commands
            && (stats.outputs.sinks.collector.send_errors ?? 0) > 0;
        }, STATS_TIMEOUT_MS, `a stats line with ${commands} commands, all spooled`);
        const during = lastStats(sensor)!;
        const duringMetrics = await scrape(metricsPort);
        assert.equal(duringMetrics.get('smtp_sensor_events_total{kind="SmtpCommand"}'), commands);
        assert.equal(duringMetrics.get('smtp_sensor_spool_depth'), commands);
        assert.ok(duringMetrics.get('smtp_sensor_sink_errors_total{sink="collector"}')! > 0);
        assert.equal(duringMetrics.get('smtp_sensor_sink_delivered_total{sink="collector"}'), 0);
        assert.equal(duringMetrics.get('smtp_sensor_sink_delivered_total{sink="file"}'),
          commands);

        collector.refuseWith = undefined;
        await waitFor('every event at the collector', () => collector.received.size === commands,
          EVENT_TIMEOUT_MS);
        await sensor.waitFor(() => lastStats(sensor)?.outputs.spool.depth === 0,
          STATS_TIMEOUT_MS, 'a stats line with the spool empty');
        const stats = lastStats(sensor)!;
        const metrics = await scrape(metricsPort);

        // The same figures in both places, and what the traffic sent makes them.
        const figures: [string, string, number | undefined][] = [
          ['packets', 'smtp_sensor_packets_total', stats.capture.packets],
          ['pcap drops', 'smtp_sensor_pcap_dropped_total', stats.pcap.dropped],
          ['flows', 'smtp_sensor_flows', stats.flows],
          ['SmtpCommand events', 'smtp_sensor_events_total{kind="SmtpCommand"}',
            stats.events.SmtpCommand],
          ['attribution misses', 'smtp_sensor_attribution_misses_total',
            stats.attribution.processes_not_found],
          ['spool depth', 'smtp_sensor_spool_depth', stats.outputs.spool.depth],
          ['collector errors', 'smtp_sensor_sink_errors_total{sink="collector"}',
            stats.outputs.sinks.collector.send_errors],
          ['collector delivered', 'smtp_sensor_sink_delivered_total{sink="collector"}',
            stats.outputs.sinks.collector.delivered],
          ['file written', 'smtp_sensor_sink_delivered_total{sink="file"}',
            stats.outputs.sinks.file.written],
          ['file errors', 'smtp_sensor_sink_errors_total{sink="file"}',
            stats.outputs.sinks.file.write_errors],
        ];
        for (const [what, metric, logged] of figures) {
          assert.equal(metrics.get(metric), logged, `${what}: ${metric} and the stats line`);
        }
        assert.equal(stats.events.SmtpCommand, commands, 'one event per command sent');
        assert.deepEqual(Object.keys(stats.events), ['SmtpCommand'], 'no other event kind');
        assert.equal(stats.outputs.sinks.collector.delivered, commands);
        assert.equal(stats.outputs.sinks.file.written, commands);
        assert.equal(stats.pcap.dropped, 0);
        assert.equal(stats.outputs.sinks.file.write_errors, 0);
        // A command and its reply are two packets at least; a session adds its handshakes.
        assert.ok(stats.capture.packets >= 2 * commands + 6 * SESSIONS,
          `${stats.capture.packets} packets for ${commands} commands`);
        // A miss is a connection whose events name no process: the file says which.
        assert.equal(stats.attribution.processes_not_found, sessionsWithoutProcess(
          readEventFile(join(scratch, 'events.json'))), 'attribution misses');
        t.diagnostic(`${commands} commands sent; stats and metrics: ${stats.capture.packets} `
          + `packets, ${stats.pcap.dropped} pcap drops, ${stats.flows} flows, `
          + `${stats.attribution.processes_not_found} attribution misses (of ${SESSIONS} `
          + 'connections); while the '
          + `collector refused: spool depth ${during.outputs.spool.depth}, `
          + `${during.outputs.sinks.collector.send_errors} send errors; after: `
          + `${stats.outputs.sinks.collector.delivered} delivered, `
          + `${stats.outputs.sinks.collector.send_errors} send errors in all`);
      });
  });
