import type pino from 'pino';
import { LiveCapture } from '../src/capture/live-capture.js';
import { portFilters } from '../src/capture/port-filter.js';
import { DEFAULT_REASSEMBLY_LIMITS } from '../src/capture/reassembly-limits.js';
import type { ConfigOverrides } from '../src/config/config-overrides.js';
import type { SensorConfig } from '../src/config/config-schema.js';
import type { SensorEvent } from '../src/events/sensor-event.js';
import { PrometheusExporter } from '../src/sinks/metrics/prometheus-exporter.js';
import type { SensorFigures } from '../src/sinks/metrics/sensor-figures.js';
import { ConnectRecords } from '../src/proc/connect-records.js';
import { ProcError } from '../src/proc/proc-error.js';
import { SocketOwnerResolver } from '../src/proc/socket-owner-resolver.js';
import { readHostIdentity } from './host-identity-reader.js';
import { LiveAttribution } from './live-attribution.js';
import { LocalAddresses } from './local-addresses.js';
import { OutputRouter } from './output-router.js';
import { SensorPipeline, type SensorPipelineOptions } from './sensor-pipeline.js';
import { warmUp } from './warm-up.js';

/**
 * How long SIGTERM gives network sinks to deliver what is spooled; what is left stays in the
 * spool for the next start. The unit's TimeoutStopSec (30 s) leaves room for the rest.
 */
const STOP_DELIVERY_MS = 10_000;

export interface ConfigSource {
  config: SensorConfig;
  /** The file it came from (undefined: the default path), read again on SIGHUP. */
  path: string | undefined;
  overrides: ConfigOverrides;
}

/**
 * `smtp-sensor run`: live capture until SIGTERM or SIGINT, events to the configured sinks as
 * they come. Resolves with the exit code: 0 after a signal, 1 when standard output, the only
 * sink, went away (events could no longer be delivered, which must not go unnoticed).
 */
export async function runLive(source: ConfigSource, log: pino.Logger): Promise<number> {
  const { config } = source;
  const connectRecords = config.attribution.enabled ? openConnectRecords(config, log) : undefined;
  const resolver = config.attribution.enabled
    ? new SocketOwnerResolver({ connectRecords }) : undefined;
  resolver?.indexAllProcesses();
  const attribution = new LiveAttribution(resolver, new LocalAddresses(),
    config.capture.inbound);
  const outputs = new OutputRouter(config, source.path, source.overrides, log);
  const eventCounts: Record<string, number> = {};
  const pipelineOptions: SensorPipelineOptions = {
    ports: config.capture.ports,
    host: readHostIdentity(),
    limits: DEFAULT_REASSEMBLY_LIMITS,
    attribution,
    emit: (event: SensorEvent) => {
      eventCounts[event.event_simpleName] = (eventCounts[event.event_simpleName] ?? 0) + 1;
      outputs.write(event);
    },
  };
  await warmUp(resolver, pipelineOptions);
  const pipeline = new SensorPipeline(pipelineOptions);
  let internalErrors = 0;
  const capture = new LiveCapture({
    interfaceName: config.capture.interface,
    filters: portFilters(config.capture.ports),
    bufferBytes: config.capture.buffer_mib * 1024 * 1024,
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
    internal_errors: internalErrors,
    capture: pipeline.captureStats,
    smtp: pipeline.smtpStats,
    attribution: {
      ...attribution.counters, ...resolver?.stats, connect_records: connectRecords?.counters(),
    },
    outputs: outputs.current.stats(),
  });
  const figures = (): SensorFigures => ({
    packets: pipeline.captureStats.packets,
    pcapDrops: capture.counters().dropped,
    flows: pipeline.flowCount,
    eventsByKind: eventCounts,
    attributionMisses: attribution.counters.processes_not_found,
    sinks: outputs.current.stats(),
  });
  const exporter = config.stats.prometheus.enabled ? new PrometheusExporter(figures) : undefined;
  await exporter?.listen(config.stats.prometheus.listen);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (code: number, reason: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      process.off('SIGTERM', onTerm).off('SIGINT', onInt).off('SIGHUP', onHup);
      const pcap = capture.counters();
      capture.close();
      pipeline.finish();
      await outputs.close(Date.now() + STOP_DELIVERY_MS);
      await exporter?.close();
      log.info({ reason, ...stats(), pcap }, 'capture stopped');
      connectRecords?.close();
      resolve(code);
    };
    const onTerm = () => void stop(0, 'SIGTERM');
    const onInt = () => void stop(0, 'SIGINT');
    const onHup = () => outputs.reload();
    process.on('SIGTERM', onTerm).on('SIGINT', onInt).on('SIGHUP', onHup);
    const timer = setInterval(() => log.info(stats(), 'capture stats'),
      config.stats.interval_seconds * 1000);
    capture.start(() => {
      outputs.current.flush();
      if (outputs.current.outputClosed) {
        log.error('standard output closed: events can no longer be delivered');
        void stop(1, 'output_closed');
      }
    });
    log.info({ interface: config.capture.interface, filter: capture.filter,
      inbound: config.capture.inbound, sinks: config.output.sinks.map((sink) => sink.type),
      connect_records: connectRecords !== undefined },
    'capture started');
  });
}

/**
 * The kernel connect records, as attribution.connect_records asks: "off", none; "required", or
 * the sensor does not start; "auto", or a warning that says why not, and /proc alone.
 */
function openConnectRecords(config: SensorConfig, log: pino.Logger): ConnectRecords | undefined {
  const mode = config.attribution.connect_records;
  if (mode === 'off') return undefined;
  try {
    return ConnectRecords.open(config.capture.ports);
  } catch (error) {
    if (mode === 'required' || !(error instanceof ProcError)) throw error;
    // Without them, a sender whose socket is closed before its lookup goes unattributed.
    log.warn({ reason: error.message }, 'kernel connect records unavailable; /proc alone');
    return undefined;
  }
}
