import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CaptureStats } from '../src/capture/capture-stats.js';
import { DecodedSegment, TcpFlag as Flag } from '../src/capture/decoded-segment.js';
import { DEFAULT_REASSEMBLY_LIMITS } from '../src/capture/reassembly-limits.js';
import type { StreamHandler } from '../src/capture/stream-handler.js';
import { TcpReassembler } from '../src/capture/tcp-reassembler.js';
import { countCommands, sensorVerb, tsharkVerb } from './command-count.js';
import { PcapFileWriter, TcpFlag } from './pcap-file-writer.js';
import type { TcpEndpoint } from './pcap-file-writer.js';
import {
  COMMANDS_PER_SESSION, MAXIMUM_SEGMENT_SIZE, scriptSmtpSession,
} from './smtp-session-script.js';
import { runTimed } from './timed-command.js';
import type { TimedRun } from './timed-command.js';

/**
 * Reassembly at scale: 100,000 SMTP sessions all open at once (each sends its first packet
 * before any sends its last), half of them with two pipelined RCPT segments captured out of
 * order, a third with a retransmitted MAIL segment. Times `node agent/smtp-sensor replay` and
 * tshark's SMTP dissector on the same capture, measures their peak RSS, the sensor's RSS per
 * connection (against a 10-session capture) and, in a child with --expose-gc, the heap the
 * reassembler alone keeps per open flow. Writes bench/results/reassembly-latest.json.
 * Run after a build: `node dist/bench/reassembly-bench.js [SESSIONS]` (about 2 minutes).
 */

const SESSIONS = Number(process.argv[2] ?? 100_000);
const BASELINE_SESSIONS = 10;
const START_MICROSECONDS = 1_704_067_200_000_000;
const PACKET_SPACING_MICROSECONDS = 40;
const SERVER: TcpEndpoint = {
  mac: Buffer.from([0x52, 0x54, 0x00, 0x00, 0x00, 0x25]), address: 0xc0000219, port: 25,
};
const CLIENT_MAC = Buffer.from([0x52, 0x54, 0x00, 0x00, 0x00, 0x01]);
/** Script positions of the two RCPT lines and their replies (after the 3 handshake packets). */
const FIRST_RCPT = 3 + 5;
const MAIL_REPLY = 3 + 4;
const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS_PATH = join(REPOSITORY_ROOT, 'bench', 'results', 'reassembly-latest.json');
const MEMORY_MODE = '--reassembler-memory';
const TSHARK_ARGUMENTS = ['-Y', 'smtp.req', '-T', 'fields', '-e', 'smtp.req.command',
  '-e', 'smtp.req.parameter'];

/** One packet of a session with its sequence numbers worked out in sending order. */
interface PlannedPacket {
  fromClient: boolean;
  flags: number;
  payload: Buffer | null;
  seq: number;
  ack: number;
}

interface Session {
  client: TcpEndpoint;
  packets: PlannedPacket[];
}

interface CaptureSummary {
  sessions: number;
  packets: number;
  bytes: number;
  outOfOrderSessions: number;
  retransmittingSessions: number;
}

function shortMessage(index: number): Buffer {
  return Buffer.from(`From: <sender${index}@example.org>\r\nSubject: note ${index}\r\n\r\n`
    + 'The meeting moved to Thursday; the quarterly report is attached.\r\n'.repeat(4));
}

/** Handshake, the scripted session, close; seq/ack as a real pair of stacks would set them. */
function planSession(index: number): Session {
  const client: TcpEndpoint = {
    mac: CLIENT_MAC,
    address: ((10 << 24) | ((1 + (index >>> 16)) << 16) | (index & 0xffff)) >>> 0,
    port: 1024 + (index * 7) % 60000,
  };
  const script = [
    { fromClient: true, flags: TcpFlag.SYN, payload: null },
    { fromClient: false, flags: TcpFlag.SYN | TcpFlag.ACK, payload: null },
    { fromClient: true, flags: TcpFlag.ACK, payload: null },
    ...scriptSmtpSession(index, shortMessage(index)),
    { fromClient: false, flags: TcpFlag.FIN | TcpFlag.ACK, payload: null },
    { fromClient: true, flags: TcpFlag.FIN | TcpFlag.ACK, payload: null },
    { fromClient: false, flags: TcpFlag.ACK, payload: null },
  ];
  let clientSeq = (index * 2654435761) >>> 0;
  let serverSeq = (index * 40503 * 65537 + 12345) >>> 0;
  const packets = script.map((scripted) => {
    const consumed = (scripted.payload?.length ?? 0)
      + ((scripted.flags & (TcpFlag.SYN | TcpFlag.FIN)) !== 0 ? 1 : 0);
    const seq = scripted.fromClient ? clientSeq : serverSeq;
    const ack = scripted.flags === TcpFlag.SYN ? 0 : scripted.fromClient ? serverSeq : clientSeq;
    if (scripted.fromClient) clientSeq = (clientSeq + consumed) >>> 0;
    else serverSeq = (serverSeq + consumed) >>> 0;
    return { ...scripted, seq, ack };
  });
  return { client, packets: adverse(index, packets) };
}

/**
 * Even sessions pipeline the two RCPT lines and the capture has them in reverse order; every
 * third session's MAIL segment is retransmitted after its reply.
 */
function adverse(index: number, packets: PlannedPacket[]): PlannedPacket[] {
  const result = packets.slice();
  if (index % 2 === 0) {
    const [rcpt1, reply1, rcpt2, reply2] = packets.slice(FIRST_RCPT, FIRST_RCPT + 4);
    result.splice(FIRST_RCPT, 4, rcpt2, rcpt1, reply1, reply2);
  }
  if (index % 3 === 0) result.splice(MAIL_REPLY + 1, 0, packets[MAIL_REPLY - 1]);
  return result;
}

/** Round-robin over every session: all are open before the first one closes. */
function writeCapture(path: string, sessions: number): CaptureSummary {
  const writer = new PcapFileWriter(path);
  const planned: Session[] = [];
  for (let index = 0; index < sessions; index++) planned.push(planSession(index));
  let time = START_MICROSECONDS;
  for (let round = 0, written = true; written; round++) {
    written = false;
    for (const session of planned) {
      const packet = session.packets[round];
      if (packet === undefined) continue;
      writePacket(writer, session.client, packet, time);
      time += PACKET_SPACING_MICROSECONDS;
      written = true;
    }
  }
  writer.close();
  return { sessions, packets: writer.packets, bytes: writer.bytes,
    outOfOrderSessions: Math.ceil(sessions / 2), retransmittingSessions: Math.ceil(sessions / 3) };
}

function writePacket(writer: PcapFileWriter, client: TcpEndpoint, packet: PlannedPacket,
  time: number): void {
  const mss = (packet.flags & TcpFlag.SYN) !== 0 ? MAXIMUM_SEGMENT_SIZE : 0;
  const segment = { seq: packet.seq, ack: packet.ack, flags: packet.flags, mss,
    payload: packet.payload };
  if (packet.fromClient) writer.writeTcp(time, client, SERVER, segment);
  else writer.writeTcp(time, SERVER, client, segment);
}

interface ToolResult {
  seconds: number;
  packetsPerSecond: number;
  megabytesPerSecond: number;
  peakRssMiB: number | null;
  commandsFound: number;
  verbs: Record<string, number>;
  exitCode: number | null;
}

function toolResult(run: TimedRun, found: { lines: number; verbs: Record<string, number> },
  capture: CaptureSummary): ToolResult {
  return {
    seconds: round(run.seconds, 2),
    packetsPerSecond: Math.round(capture.packets / run.seconds),
    megabytesPerSecond: round(capture.bytes / 1e6 / run.seconds, 1),
    peakRssMiB: run.peakRssKib === null ? null : round(run.peakRssKib / 1024, 1),
    commandsFound: found.lines,
    verbs: found.verbs,
    exitCode: run.exitCode,
  };
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

async function timeSensor(capturePath: string, scratch: string, capture: CaptureSummary) {
  const output = join(scratch, 'sensor.jsonl');
  const run = await runTimed(process.execPath, [join('agent', 'smtp-sensor'), 'replay',
    capturePath], output, REPOSITORY_ROOT);
  const result = toolResult(run, await countCommands(output, sensorVerb), capture);
  rmSync(output);
  return { run, result };
}

async function timeTshark(capturePath: string, scratch: string, capture: CaptureSummary) {
  const output = join(scratch, 'tshark.tsv');
  const run = await runTimed('tshark', ['-r', capturePath, ...TSHARK_ARGUMENTS], output,
    REPOSITORY_ROOT);
  return toolResult(run, await countCommands(output, tsharkVerb), capture);
}

interface ReassemblerMemory {
  delivered: number;
  holding: number;
  withoutRecentBytes: number;
}

/** One measurement per child process, so that none sees another's garbage. */
function measureInChild(flows: number, held: boolean, recentBytes: number): number {
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url),
    MEMORY_MODE, String(flows), held ? '1' : '0', String(recentBytes)], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

const SILENT: StreamHandler<null> = {
  onFlowOpen: () => null, onData() {}, onGap() {}, onAnomaly() {}, onFlowClose() {},
};

/**
 * Heap and buffers the reassembler keeps for `flows` open flows, each past its handshake with
 * bytes delivered both ways (so each direction has its recent-bytes copy) and, when `held`,
 * 100 client bytes held behind a hole; `recentBytes` per direction are remembered to compare
 * retransmissions with (0: none). Needs --expose-gc.
 */
function reassemblerBytesPerFlow(flows: number, held: boolean, recentBytes: number): number {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const ports = new Uint8Array(65536);
  ports[25] = 1;
  const reassembler = new TcpReassembler(SILENT, ports,
    { ...DEFAULT_REASSEMBLY_LIMITS, maxFlows: flows, recentBytesPerStream: recentBytes },
    new CaptureStats());
  const segment = new DecodedSegment();
  segment.buf = Buffer.alloc(200, 0x61);
  gc();
  const before = process.memoryUsage();
  for (let index = 0; index < flows; index++) {
    segment.sourceIp4 = (0x0a000000 + index) >>> 0;
    segment.destinationIp4 = SERVER.address;
    feedFlow(reassembler, segment, held);
  }
  gc();
  const after = process.memoryUsage();
  const used = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  if (reassembler.flowCount !== flows) throw new Error('flows were lost');
  return Math.round(used / flows);
}

function feedFlow(reassembler: TcpReassembler<null>, segment: DecodedSegment, held: boolean) {
  const client = segment.sourceIp4;
  const send = (fromClient: boolean, flags: number, seq: number, length: number) => {
    segment.sourceIp4 = fromClient ? client : SERVER.address;
    segment.destinationIp4 = fromClient ? SERVER.address : client;
    segment.sourcePort = fromClient ? 40000 : 25;
    segment.destinationPort = fromClient ? 25 : 40000;
    segment.sequence = seq;
    segment.acknowledgement = fromClient ? 501 : 101;
    segment.flags = flags;
    segment.payloadStart = 0;
    segment.payloadEnd = length;
    reassembler.process(segment, 1000);
  };
  send(true, Flag.SYN, 100, 0);
  send(false, Flag.SYN | Flag.ACK, 500, 0);
  send(false, Flag.ACK, 501, 30);
  send(true, Flag.ACK, 101, 25);
  if (held) send(true, Flag.ACK, 200, 100);
}

async function main(): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-reassembly-'));
  try {
    const capturePath = join(scratch, 'concurrent.pcap');
    const writeStarted = performance.now();
    const capture = writeCapture(capturePath, SESSIONS);
    console.log(`capture: ${capture.sessions} concurrent sessions, ${capture.packets} packets, `
      + `${(capture.bytes / 1e6).toFixed(1)} MB, written in `
      + `${((performance.now() - writeStarted) / 1000).toFixed(1)} s`);
    const baselinePath = join(scratch, 'baseline.pcap');
    const baseline = writeCapture(baselinePath, BASELINE_SESSIONS);
    const sensor = await timeSensor(capturePath, scratch, capture);
    const sensorBaseline = await timeSensor(baselinePath, scratch, baseline);
    const tshark = await timeTshark(capturePath, scratch, capture);
    const recent = DEFAULT_REASSEMBLY_LIMITS.recentBytesPerStream;
    const reassembler = {
      delivered: measureInChild(SESSIONS, false, recent),
      holding: measureInChild(SESSIONS, true, recent),
      withoutRecentBytes: measureInChild(SESSIONS, false, 0),
    };
    const perConnection = sensor.result.peakRssMiB === null
      || sensorBaseline.result.peakRssMiB === null ? null
      : Math.round((sensor.result.peakRssMiB - sensorBaseline.result.peakRssMiB)
        * 1024 * 1024 / SESSIONS);
    const expected = SESSIONS * COMMANDS_PER_SESSION;
    const complete = sensor.result.exitCode === 0 && sensor.result.commandsFound === expected;
    report(capture, sensor.result, tshark, perConnection, reassembler, expected, complete);
    mkdirSync(dirname(RESULTS_PATH), { recursive: true });
    writeFileSync(RESULTS_PATH, `${JSON.stringify({
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown',
        node: process.version },
      capture,
      sensor: { ...sensor.result, commandsExpected: expected, complete,
        baselinePeakRssMiB: sensorBaseline.result.peakRssMiB,
        rssBytesPerConnection: perConnection },
      tshark,
      reassemblerHeapBytesPerFlow: reassembler,
      speedRatioSensorToTshark: round(tshark.seconds / sensor.result.seconds, 2),
    }, null, 2)}\n`);
    console.log(`results: ${RESULTS_PATH}`);
    if (!complete) console.error(sensor.run.stderr.slice(-3000));
    return complete ? 0 : 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function report(capture: CaptureSummary, sensor: ToolResult, tshark: ToolResult,
  perConnection: number | null, reassembler: ReassemblerMemory, expected: number,
  complete: boolean): void {
  for (const [name, result] of [['sensor', sensor], ['tshark', tshark]] as const) {
    console.log(`${name.padEnd(7)} ${result.seconds.toFixed(2)} s, `
      + `${result.packetsPerSecond} packets/s, ${result.megabytesPerSecond} MB/s, `
      + `peak RSS ${result.peakRssMiB ?? 'n/a'} MiB, commands ${result.commandsFound}/${expected}`);
  }
  console.log(`sensor RSS per concurrent connection: ${perConnection ?? 'n/a'} bytes; `
    + `reassembler heap per open flow: ${reassembler.delivered} bytes, `
    + `${reassembler.holding} bytes with 100 bytes held out of order, `
    + `${reassembler.withoutRecentBytes} bytes without remembered bytes`);
  console.log(`sensor speed / tshark speed: ${round(tshark.seconds / sensor.seconds, 2)}`
    + `${complete ? '' : '  SENSOR INCOMPLETE'}; capture: ${capture.packets} packets`);
}

if (process.argv[2] === MEMORY_MODE) {
  const [flows, held, recentBytes] = process.argv.slice(3).map(Number);
  console.log(reassemblerBytesPerFlow(flows, held === 1, recentBytes));
} else {
  process.exitCode = await main();
}
