import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayAttribution } from '../../agent/replay-attribution.js';
import { SensorPipeline } from '../../agent/sensor-pipeline.js';
import { playWarmUpSession } from '../../agent/warm-up.js';
import { DEFAULT_REASSEMBLY_LIMITS } from '../../src/capture/reassembly-limits.js';
import type { SensorEvent } from '../../src/events/sensor-event.js';

test('the warm-up session takes the whole path: handshake, commands, body, close', () => {
  const events: SensorEvent[] = [];
  const pipeline = new SensorPipeline({ ports: [25], host: { aid: 'a', computerName: 'c' },
    limits: DEFAULT_REASSEMBLY_LIMITS, attribution: new ReplayAttribution(),
    emit: (event) => events.push(event) });
  playWarmUpSession(pipeline, 0);
  playWarmUpSession(pipeline, 1);
  pipeline.finish();
  const commands = events.map((e) => `${e.LocalPort} ${e.SmtpVerb} ${e.CommandArg1}`.trim());
  const session = (port: number) => [`${port} EHLO warm-up`, `${port} MAIL FROM:<a@warm-up>`,
    `${port} RCPT TO:<b@warm-up>`, `${port} DATA`, `${port} QUIT`];
  assert.deepEqual(commands, [...session(40000), ...session(40001)]);
  assert.equal(pipeline.captureStats.flows_closed, 2, 'both sessions ended with FIN');
  assert.equal(pipeline.smtpStats.body_bytes, 2 * 'Subject: x\r\n\r\nbody\r\n.\r\n'.length);
});
