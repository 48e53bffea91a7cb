import type pino from 'pino';
import { CaptureStats } from '../src/capture/capture-stats.js';
import { LiveCapture } from '../src/capture/live-capture.js';
import { portFilter } from '../src/capture/port-filter.js';
import { DEFAULT_REASSEMBLY_LIMITS } from '../src/capture/reassembly-limits.js';
import type { SensorEvent } from '../src/events/sensor-event.js';
import { SocketOwnerResolver } from '../src/proc/socket-owner-resolver.js';
import { EventWriter } from './event-writer.js';
import { readHostIdentity } from './host-identity-reader.js';
import { LiveAttribution } from './live-attribution.js';
import { LocalAddresses } from './local-addresses.js';
import { SensorPipeline } from './sensor-pipeline.js';

export interface RunOptions {
  interfaceName: string;
  ports: readonly number[];
  /** Also report commands that remote clients send to local servers. */
  inbound: boolean;
  /** Kernel capture buffer in MiB. */
  bufferMiB: number;
  /** Seconds between stats lines in the log. */
  statsIntervalSeconds: number;
  where?: (event: SensorEvent) => boolean;
}

/**
 * `smtp-sensor run`: live capture until SIGTERM or SIGINT, events on standard output as they
 * come. Resolves with the exit code: 0 after a signal, 1 when standard output went away
 * (events could no longer be delivered, which must not go unnoticed).
 */
export async function runLive(options: RunOptions, log: pino.Logger): Promise<number> {
  const resolver = new SocketOwnerResolver();
  resolver.indexAllProcesses();
  const attribution = new LiveAttribution(resolver, new LocalAddresses(), options.inbound);
  const writer = new EventWriter(1);
  const eventCounts: Record<string, number> = {};
  let filtered = 0;
  const pipeline = new SensorPipeline({
    ports: options.ports,
    host: readHostIdentity(),
    limits: DEFAULT_REASSEMBLY_LIMITS,
    attribution,
    emit: (event) => {
      if (options.where !== undefined && !options.where(event)) {
        filtered++;
        return;
      }
      eventCounts[event.event_simpleName] = (eventCounts[event.event_simpleName] ?? 0) + 1;
      writer.write(event);
    },
  });
  let internalErrors = 0;
  const filter = portFilter(options.ports);
  const capture = new LiveCapture({
    interfaceName: options.interfaceName,
    filter,
    bufferBytes: options.bufferMiB * 1024 * 1024,
  }, (buf, header, linkType) => {
    try {
      pipeline.processPacket(buf, header, linkType);
    } catch (error) {
      // The packet's bytes are not logged: they may carry credentials.
      if (internalErrors++ === 0) log.error({ err: error }, 'packet processing failed');
    }
  });
  const stats = () => ({
    pcap: capture.counters(),
    flows: pipeline.flowCount,
    events: eventCounts,
    events_filtered: filtered,
    internal_errors: internalErrors,
    capture: pipeline.captureStats as CaptureStats,
    smtp: pipeline.smtpStats,
    attribution: { ...attribution.counters, ...resolver.stats },
  });
  return new Promise<number>((resolve) => {
    let stopped = false;
    const stop = (code: number, reason: string) => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      const counters = capture.counters();
      capture.close();
      pipeline.finish();
      writer.flush();
      log.info({ reason, ...stats(), pcap: counters }, 'capture stopped');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(writer.closed ? 1 : code);
    };
    const onTerm = () => stop(0, 'SIGTERM');
    const onInt = () => stop(0, 'SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    const timer = setInterval(() => log.info(stats(), 'capture stats'),
      options.statsIntervalSeconds * 1000);
    capture.start(() => {
      writer.flush();
      if (writer.closed) {
        log.error('standard output closed: events can no longer be delivered');
        stop(1, 'output_closed');
      }
    });
    log.info({ interface: options.interfaceName, filter, inbound: options.inbound },
      'capture started');
  });
}
