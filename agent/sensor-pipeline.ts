import type { CaptureAnomalyName } from '../src/capture/capture-anomaly-name.js';
import { CaptureStats } from '../src/capture/capture-stats.js';
import { PacketDecoder } from '../src/capture/packet-decoder.js';
import type { ReassemblyLimits } from '../src/capture/reassembly-limits.js';
import type { StreamHandler } from '../src/capture/stream-handler.js';
import type { TcpFlow } from '../src/capture/tcp-flow.js';
import { TcpReassembler } from '../src/capture/tcp-reassembler.js';
import { ConnectionContext } from '../src/events/connection-context.js';
import { EventBuilder } from '../src/events/event-builder.js';
import type { HostIdentity } from '../src/events/host-identity.js';
import type { SensorEvent } from '../src/events/sensor-event.js';
import { LineBudget, MAX_UNFINISHED_LINE_BYTES } from '../src/smtp/line-budget.js';
import { SmtpStats } from '../src/smtp/smtp-stats.js';
import type { ConnectionAttribution } from './connection-attribution.js';
import { type CommandLineWriter, FlowRecorder } from './flow-recorder.js';

export interface SensorPipelineOptions {
  ports: readonly number[];
  host: HostIdentity;
  limits: ReassemblyLimits;
  attribution: ConnectionAttribution;
  /** Called synchronously for each event, in the order the conversations produce them. */
  emit: (event: SensorEvent) => void;
  /**
   * When set, command events are written by it without being built, and not emitted: for a
   * consumer that only writes the events' lines, in the same order as `emit` would see them.
   */
  writeCommand?: CommandLineWriter;
}

/** Offsets in the 16-byte packet header node_pcap fills (struct pcap_pkthdr, host order). */
const HEADER_SECONDS = 0;
const HEADER_MICROSECONDS = 4;
const HEADER_CAPTURED_LENGTH = 8;

/**
 * Wires the parts together: packets to src/capture, ordered bytes to src/smtp, records to
 * src/events. The per-packet path is decode + reassemble, both allocation-free.
 */
export class SensorPipeline implements StreamHandler<FlowRecorder | null> {
  readonly captureStats = new CaptureStats();
  readonly smtpStats = new SmtpStats();
  /** What all the connections' unfinished command lines may hold together. */
  private readonly lineBudget = new LineBudget(MAX_UNFINISHED_LINE_BYTES, this.smtpStats);
  /** Capture time of the latest packet, in ms. */
  lastTime = 0;
  private readonly decoder: PacketDecoder;
  private readonly reassembler: TcpReassembler<FlowRecorder | null>;
  private readonly builder: EventBuilder;

  constructor(private readonly options: SensorPipelineOptions) {
    const ports = new Uint8Array(65536);
    for (const port of options.ports) ports[port] = 1;
    this.decoder = new PacketDecoder(ports, this.captureStats);
    this.reassembler = new TcpReassembler(this, ports, options.limits, this.captureStats);
    this.builder = new EventBuilder(options.host);
  }

  get flowCount(): number {
    return this.reassembler.flowCount;
  }

  /** One packet as node_pcap hands it over: `buf` is reused for the next packet. */
  processPacket(buf: Buffer, header: Buffer, linkType: number): void {
    const time = header.readUInt32LE(HEADER_SECONDS) * 1000
      + Math.floor(header.readUInt32LE(HEADER_MICROSECONDS) / 1000);
    const capturedLength = header.readUInt32LE(HEADER_CAPTURED_LENGTH);
    this.captureStats.packets++;
    this.captureStats.bytes += capturedLength;
    this.lastTime = time;
    if (this.decoder.decode(buf, capturedLength, linkType)) {
      this.reassembler.process(this.decoder.segment, time);
    }
  }

  /** Ends every connection still open: the capture is over. */
  finish(): void {
    this.reassembler.finish(this.lastTime);
  }

  /** Null for a connection that is not reported: its bytes are not even parsed. */
  onFlowOpen(flow: TcpFlow<FlowRecorder | null>, time: number): FlowRecorder | null {
    const endpoints = {
      ipVersion: flow.ipVersion,
      clientAddress: flow.clientAddress,
      clientPort: flow.clientPort,
      serverAddress: flow.serverAddress,
      serverPort: flow.serverPort,
      startTime: time,
      firstSequence: flow.firstSequence,
      clientInitialSequence: flow.openedByClientSyn ? flow.clientInitialSequence : undefined,
    };
    const attributed = this.options.attribution.atFirstPacket(endpoints, time);
    if (attributed === undefined) return null;
    const connection = new ConnectionContext(endpoints, attributed.direction,
      attributed.process, this.options.host);
    return new FlowRecorder(connection, this.builder, this.options.emit, this.smtpStats,
      flow.sawHandshake, this.lineBudget, this.options.writeCommand);
  }

  onData(
    flow: TcpFlow<FlowRecorder | null>, fromClient: boolean, buf: Buffer, start: number,
    end: number, time: number,
  ): void {
    const recorder = flow.session;
    if (!recorder) return;
    if (fromClient) {
      recorder.session.receiveClient(buf, start, end, time);
      return;
    }
    if (recorder.awaitsServerProcess) this.attributeServer(recorder, time);
    recorder.session.receiveServer(buf, start, end, time);
  }

  onGap(flow: TcpFlow<FlowRecorder | null>, fromClient: boolean, length: number, time: number) {
    flow.session?.session.gap(fromClient, length, time);
  }

  onAnomaly(
    flow: TcpFlow<FlowRecorder | null>, _fromClient: boolean, name: CaptureAnomalyName,
    detail: string, time: number,
  ): void {
    flow.session?.anomaly(name, detail, time);
  }

  onFlowClose(flow: TcpFlow<FlowRecorder | null>, _reason: string, time: number): void {
    flow.session?.end(time);
  }

  private attributeServer(recorder: FlowRecorder, time: number): void {
    const connection = recorder.connection;
    connection.process = this.options.attribution.serverProcess(connection.endpoints, time);
    recorder.awaitsServerProcess = false;
  }
}
