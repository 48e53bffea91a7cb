import { DEFAULT_REASSEMBLY_LIMITS } from '../../src/capture/reassembly-limits.js';
import type { ReassemblyLimits } from '../../src/capture/reassembly-limits.js';
import type { SensorEvent } from '../../src/events/sensor-event.js';
import { ReplayAttribution } from '../../agent/replay-attribution.js';
import { SensorPipeline } from '../../agent/sensor-pipeline.js';
import type { PcapFrame } from '../helpers/pcap-writer.js';

const HOST = { aid: 'a1b2c3', computerName: 'sensor-test' };
/** struct pcap_pkthdr as node_pcap fills it: seconds, microseconds, captured, original. */
const HEADER_BYTES = 16;

export interface PipelineRun {
  events: SensorEvent[];
  pipeline: SensorPipeline;
}

/**
 * Feeds frames through the whole sensor pipeline as node_pcap would, one reused buffer per
 * packet, and returns the events it emitted.
 */
export function runPipeline(
  frames: readonly PcapFrame[], linkType: number, limits: Partial<ReassemblyLimits> = {},
): PipelineRun {
  const events: SensorEvent[] = [];
  const pipeline = new SensorPipeline({
    ports: [25, 587],
    host: HOST,
    limits: { ...DEFAULT_REASSEMBLY_LIMITS, ...limits },
    attribution: new ReplayAttribution(),
    emit: (event) => events.push(event),
  });
  const header = Buffer.alloc(HEADER_BYTES);
  const reused = Buffer.alloc(65536);
  frames.forEach((frame) => {
    const captured = Math.min(frame.bytes.length, reused.length);
    header.writeUInt32LE(frame.seconds, 0);
    header.writeUInt32LE(frame.microseconds, 4);
    header.writeUInt32LE(captured, 8);
    header.writeUInt32LE(frame.bytes.length, 12);
    frame.bytes.copy(reused, 0, 0, captured);
    pipeline.processPacket(reused, header, linkType);
    // The capture library overwrites its buffer with the next packet.
    reused.fill(0x58, 0, captured);
  });
  pipeline.finish();
  return { events, pipeline };
}

/** Each SmtpCommand event as `VERB argument`, in order. */
export function commandsOf(events: readonly SensorEvent[]): string[] {
  return events
    .filter((event) => event.event_simpleName === 'SmtpCommand')
    .map((event) => `${String(event.SmtpVerb)} ${String(event.CommandArg1)}`);
}

export function anomaliesOf(events: readonly SensorEvent[]): string[] {
  return events
    .filter((event) => event.event_simpleName === 'SmtpAnomaly')
    .map((event) => String(event.AnomalyName));
}
