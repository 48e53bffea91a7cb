import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, describe, it } from 'node:test';
import { PrometheusExporter } from '../../src/sinks/metrics/prometheus-exporter.js';
import type { SensorFigures } from '../../src/sinks/metrics/sensor-figures.js';

function scrape(port: number, path = '/metrics'): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, timeout: 5000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    }).on('error', reject);
  });
}

describe('Prometheus endpoint', () => {
  const figures: SensorFigures = {
    packets: 1234, pcapDrops: 5, flows: 7, eventsByKind: { SmtpCommand: 40, SmtpAnomaly: 2 },
    attributionMisses: 3,
    sinks: { events: 42, filtered: 0, sinks: {
      'siem-http': { type: 'http', delivered: 30, filtered: 0, batches: 3, send_errors: 4,
        dropped: 6, unreadable: 0, lag: 12 },
      stdout: { type: 'stdout', written: 42, filtered: 0, lost: 0, write_errors: 0,
        rotations: 0 },
    }, spool: { records_written: 42, bytes_written: 5000, write_errors: 0, segments: 2,
      bytes: 4000, segments_deleted: 1, segments_dropped: 1, damaged_records_skipped: 0,
      damaged_bytes_skipped: 0, syncs: 9, depth: 12 } },
  };
  const exporter = new PrometheusExporter(() => figures);
  after(() => exporter.close());

  it('serves the same figures as the stats line, on loopback', async () => {
    await exporter.listen('127.0.0.1:0');
    const { status, text } = await scrape(exporter.port);
    assert.equal(status, 200);
    for (const line of [
      'smtp_sensor_packets_total 1234',
      'smtp_sensor_pcap_dropped_total 5',
      'smtp_sensor_flows 7',
      'smtp_sensor_events_total{kind="SmtpCommand"} 40',
      'smtp_sensor_events_total{kind="SmtpAnomaly"} 2',
      'smtp_sensor_attribution_misses_total 3',
      'smtp_sensor_spool_depth 12',
      'smtp_sensor_sink_errors_total{sink="siem-http"} 4',
      'smtp_sensor_sink_dropped_total{sink="siem-http"} 6',
      'smtp_sensor_sink_delivered_total{sink="stdout"} 42',
    ]) {
      assert.ok(text.split('\n').includes(line), `missing: ${line}`);
    }
    figures.packets = 2000;
    assert.match((await scrape(exporter.port)).text, /^smtp_sensor_packets_total 2000$/m,
      'values are read at scrape time');
  });

  it('answers 404 elsewhere', async () => {
    assert.equal((await scrape(exporter.port, '/')).status, 404);
  });
});
