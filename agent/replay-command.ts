import type pino from 'pino';
import { checkCaptureFile, readCaptureFile } from '../src/capture/pcap-file-reader.js';
import { DEFAULT_REASSEMBLY_LIMITS } from '../src/capture/reassembly-limits.js';
import type { SensorEvent } from '../src/events/sensor-event.js';
import { EventWriter } from './event-writer.js';
import { readHostIdentity } from './host-identity-reader.js';
import { ReplayAttribution } from './replay-attribution.js';
import { SensorPipeline } from './sensor-pipeline.js';

export interface ReplayOptions {
  files: readonly string[];
  ports: readonly number[];
  /** Keeps the events it returns true for; all when absent. */
  where?: (event: SensorEvent) => boolean;
  /** Where events go: standard output unless a test says otherwise. */
  outputFd?: number;
}

/**
 * `smtp-sensor replay`: the files are read in order as one capture (so a capture rotated into
 * several files keeps its connections), then every connection still open is ended.
 */
export async function runReplay(options: ReplayOptions, log: pino.Logger): Promise<number> {
  const writer = new EventWriter(options.outputFd ?? 1);
  const where = options.where;
  let filtered = 0;
  const pipeline = new SensorPipeline({
    ports: options.ports,
    host: readHostIdentity(),
    limits: DEFAULT_REASSEMBLY_LIMITS,
    attribution: new ReplayAttribution(),
    emit: (event) => {
      if (where === undefined || where(event)) writer.write(event);
      else filtered++;
    },
    // Without a filter nothing reads the command events but the writer.
    writeCommand: where === undefined
      ? (builder, connection, kind, verb, argument, time) =>
        writer.writeCommand(builder, connection, kind, verb, argument, time)
      : undefined,
  });
  let internalErrors = 0;
  const onPacket = (buf: Buffer, header: Buffer, linkType: number): void => {
    try {
      pipeline.processPacket(buf, header, linkType);
    } catch (error) {
      // A fault of ours on one packet must not stop the replay; the packet's bytes are not
      // logged, they may carry credentials.
      if (internalErrors++ === 0) log.error({ err: error }, 'packet processing failed');
    }
  };
  // A file named wrongly stops the replay before any event is written.
  for (const file of options.files) checkCaptureFile(file);
  let bytesNotRead = 0;
  let damagedFiles = 0;
  try {
    for (const file of options.files) {
      const summary = await readCaptureFile(file, onPacket);
      log.debug({ file, packets: summary.packets }, 'capture file read');
      if (summary.decompressionError !== undefined) {
        damagedFiles++;
        log.warn({ file, packets: summary.packets, error: summary.decompressionError },
          'compressed capture is cut short or damaged: replayed as far as it decompressed');
      }
      if (summary.bytesNotRead !== null && summary.bytesNotRead > 0) {
        bytesNotRead += summary.bytesNotRead;
        log.warn({ file, packets: summary.packets, bytes_not_read: summary.bytesNotRead },
          'capture file ends in a record that cannot be read (cut short or damaged)');
      }
    }
    pipeline.finish();
  } finally {
    // The events of the files read so far are written even when a later one cannot be read.
    writer.flush();
  }
  if (writer.failure !== undefined) {
    log.error({ error: writer.failure, events_not_written: writer.dropped },
      'events could not be written to standard output');
  }
  log.info({
    files: options.files.length,
    events: writer.written,
    events_filtered: filtered,
    internal_errors: internalErrors,
    capture_bytes_not_read: bytesNotRead,
    compressed_files_damaged: damagedFiles,
    capture: pipeline.captureStats,
    smtp: pipeline.smtpStats,
  }, 'replay finished');
  return internalErrors > 0 || writer.failure !== undefined ? 1 : 0;
}
