import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodeClassicPcap } from '../helpers/pcap-writer.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SENSOR = join(ROOT, 'agent', 'smtp-sensor');
const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-cli-'));

/** Long enough for any failure; a command that captures instead would otherwise never end. */
const COMMAND_TIMEOUT_MS = 30_000;

function sensor(...args: string[]) {
  const result = spawnSync(SENSOR, args, { encoding: 'utf8', cwd: ROOT,
    timeout: COMMAND_TIMEOUT_MS });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A classic pcap global header (little-endian, version 2.4) with the given link type. */
function pcapHeader(linkType: number): Buffer {
  return encodeClassicPcap(linkType, []);
}

describe('smtp-sensor command line', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('--version prints the package version', () => {
    const { code, stdout } = sensor('--version');
    assert.equal(code, 0);
    assert.equal(stdout.trim(), '0.1.0');
  });

  test('--help names the commands', () => {
    const { code, stdout } = sensor('--help');
    assert.equal(code, 0);
    assert.match(stdout, /replay <files\.\.>/);
  });

  test('replay --help lists its options', () => {
    const { code, stdout } = sensor('replay', '--help');
    assert.equal(code, 0);
    assert.match(stdout, /--ports/);
  });

  const failures: [string, string[], RegExp][] = [
    ['no command', [], /^smtp-sensor: Name a command/],
    ['an unknown command', ['explode'], /^smtp-sensor: Unknown argument: explode/],
    ['a missing capture file', ['replay', join(scratch, 'nope.pcap')],
      /^smtp-sensor: .*nope\.pcap: no such file$/],
    ['a folder instead of a file', ['replay', scratch], /not a regular file$/],
    ['a file that is not a capture', ['replay', join(scratch, 'text.pcap')],
      /text\.pcap is not a pcap or pcapng capture/],
    ['an unsupported link type', ['replay', join(scratch, 'wifi.pcap')],
      /wifi\.pcap: link type 105 is not supported \(supported: Ethernet/],
    ['a bad port list', ['replay', '--ports', '25,x', join(scratch, 'wifi.pcap')],
      /^smtp-sensor: --ports: 'x' is not a port number/],
    ['a port out of range', ['replay', '--ports', '70000', join(scratch, 'wifi.pcap')],
      /'70000' is not a port number \(1-65535\)/],
    ['an unknown flag', ['replay', join(scratch, 'wifi.pcap'), '--frobnicate'],
      /Unknown argument: frobnicate/],
  ];
  writeFileSync(join(scratch, 'text.pcap'), 'this is not a capture\n'.repeat(10));
  writeFileSync(join(scratch, 'wifi.pcap'), pcapHeader(105));
  for (const [name, args, message] of failures) {
    test(`${name}: one clear line on stderr, exit code 2`, () => {
      const { code, stdout, stderr } = sensor(...args);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
      assert.match(stderr.trimEnd(), message);
    });
  }

  test('an empty capture gives no events and exit code 0', () => {
    const empty = join(scratch, 'empty.pcap');
    writeFileSync(empty, pcapHeader(1));
    const { code, stdout, stderr } = sensor('replay', empty);
    assert.equal(code, 0);
    assert.equal(stdout, '');
    assert.match(stderr, /"msg":"replay finished"/);
  });

  test('a capture cut inside its last record: the packets before it, and a warning', () => {
    const whole = readFileSync(join(ROOT, 'test/fixtures/recorded/swaks-pipeline.pcap'));
    // Classic pcap (little-endian): a 24-byte file header, then per record 16 bytes of
    // header, its captured length at offset 8, and that many bytes.
    const recordStarts: number[] = [];
    for (let at = 24; at < whole.length; at += 16 + whole.readUInt32LE(at + 8)) {
      recordStarts.push(at);
    }
    const lastRecord = recordStarts[recordStarts.length - 1];
    const cut = join(scratch, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, lastRecord + 16 + 5));
    const { code, stdout, stderr } = sensor('replay', cut);
    assert.equal(code, 0);
    assert.equal(stdout.trim().split('\n').length, 6, 'the last packet is a bare ACK or FIN');
    assert.match(stderr, /"bytes_not_read":21,.*"msg":"capture file ends in a record that cannot/);
    assert.match(stderr, /"capture_bytes_not_read":21,/);
  });

  /** Start and length of each block of a little-endian pcapng file, by its headers. */
  function pcapngBlocks(file: Buffer): { start: number; type: number; length: number }[] {
    const blocks = [];
    for (let at = 0; at + 12 <= file.length; at += file.readUInt32LE(at + 4)) {
      blocks.push({ start: at, type: file.readUInt32LE(at), length: file.readUInt32LE(at + 4) });
    }
    return blocks;
  }
  const PCAPNG = join(ROOT, 'test/fixtures/crafted/pcapng-ethernet.pcapng');

  test('a whole pcapng capture: no warning, nothing left unread', () => {
    const { code, stderr } = sensor('replay', PCAPNG);
    assert.equal(code, 0);
    assert.doesNotMatch(stderr, /cannot be read/);
    assert.match(stderr, /"capture_bytes_not_read":0,/);
  });

  test('a pcapng capture cut inside its last block: the packets before it, and a warning', () => {
    const whole = readFileSync(PCAPNG);
    const blocks = pcapngBlocks(whole);
    const last = blocks[blocks.length - 1];
    assert.equal(last.start + last.length, whole.length, 'the fixture ends with a whole block');
    const cut = join(scratch, 'cut.pcapng');
    writeFileSync(cut, whole.subarray(0, last.start + 10));
    const { code, stdout, stderr } = sensor('replay', cut);
    assert.equal(code, 0);
    assert.equal(stdout.trim().split('\n').length,
      sensor('replay', PCAPNG).stdout.trim().split('\n').length, 'the last packet is no command');
    assert.match(stderr, /"bytes_not_read":10,.*"msg":"capture file ends in a record that cannot/);
    assert.match(stderr, /"capture_bytes_not_read":10,/);
  });

  test('a pcapng block whose length runs past the file: replay stops there, and says so', () => {
    const whole = Buffer.from(readFileSync(PCAPNG));
    const packetBlocks = pcapngBlocks(whole).filter((block) => block.type === 6);
    // Packets 1-3 are the handshake and 4 the greeting (tshark); the damage is in 4, so the
    // EHLO in 5 and everything after it is never read.
    const damaged = packetBlocks[3];
    whole.writeUInt32LE(0x7ffffff0, damaged.start + 4);
    const path = join(scratch, 'damaged.pcapng');
    writeFileSync(path, whole);
    const { code, stdout, stderr } = sensor('replay', path);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), '', 'nothing after the damaged block is read');
    const unread = whole.length - damaged.start;
    assert.match(stderr, new RegExp(`"packets":3,"bytes_not_read":${unread},`));
  });

  test('the README\'s sample event is the one replaying its sample capture gives', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const sample = /```json\n(\{\n  "event_simpleName": "SmtpCommand"[^`]*\})\n```/.exec(readme);
    assert.ok(sample, 'the README has a sample SmtpCommand event');
    const shown = JSON.parse(sample[1]) as { id: string };
    const capture = join(ROOT, 'test/fixtures/recorded/swaks-pipeline.pcap');
    const events = sensor('replay', capture).stdout.trim().split('\n')
      .map((line) => JSON.parse(line) as { id: string });
    const replayed = events.find((event) => event.id === shown.id);
    // The host fields are this machine's; the README shows the recording machine's.
    const hostFields = { aid: '', ComputerName: '' };
    assert.deepEqual({ ...replayed, ...hostFields }, { ...shown, ...hostFields });
  });

  test('several files, one missing: nothing is replayed, exit 2', () => {
    const capture = join(ROOT, 'test/fixtures/recorded/swaks-pipeline.pcap');
    const { code, stdout, stderr } = sensor('replay', capture, join(scratch, 'missing.pcap'));
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /missing\.pcap: no such file\n$/);
  });

  test('a later file that is no capture: the earlier file\'s events are written, exit 2', () => {
    const capture = join(ROOT, 'test/fixtures/recorded/swaks-pipeline.pcap');
    const notCapture = join(scratch, 'not-a-capture.pcap');
    writeFileSync(notCapture, 'EHLO this is text\r\n');
    const { code, stdout } = sensor('replay', capture, notCapture);
    assert.equal(code, 2);
    assert.equal(stdout, sensor('replay', capture).stdout);
  });

  test('an output that fails (a full disk) is one error line with the events lost, exit 1', () => {
    const capture = join(ROOT, 'test/fixtures/recorded/swaks-pipeline.pcap');
    const full = openSync('/dev/full', 'w');
    const result = spawnSync(SENSOR, ['replay', capture], { encoding: 'utf8', cwd: ROOT,
      timeout: COMMAND_TIMEOUT_MS, stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    assert.equal(result.status, 1);
    assert.match(result.stderr,
      /"error":"ENOSPC","events_not_written":6,"msg":"events could not be written/);
    assert.match(result.stderr, /"events":0,/);
    assert.doesNotMatch(result.stderr, /internal error|packet processing failed/);
  });

  test('a gzip capture cut short is replayed as far as it decompresses, with a warning', () => {
    const capture = join(ROOT, 'test/fixtures/recorded/swaks-pipeline.pcap');
    const all = sensor('replay', capture).stdout;
    const compressed = gzipSync(readFileSync(capture));
    // Without its 8-byte trailer (CRC and size) the data is all there: every event.
    const noTrailer = join(scratch, 'no-trailer.pcap.gz');
    writeFileSync(noTrailer, compressed.subarray(0, compressed.length - 8));
    const whole = sensor('replay', noTrailer);
    assert.equal(whole.code, 0);
    assert.equal(whole.stdout, all);
    assert.match(whole.stderr, /"error":"unexpected end of file","msg":"compressed capture is cut/);
    assert.match(whole.stderr, /"capture_bytes_not_read":0,"compressed_files_damaged":1,/);
    // Cut in the middle: the events before the cut, and the pcap record it cut counted.
    const half = join(scratch, 'half.pcap.gz');
    writeFileSync(half, compressed.subarray(0, compressed.length >> 1));
    const cut = sensor('replay', half);
    assert.equal(cut.code, 0);
    assert.ok(all.startsWith(cut.stdout), 'the events before the cut, in order');
    assert.ok(cut.stdout.split('\n').length < all.split('\n').length, 'fewer events');
    assert.match(cut.stderr, /"compressed_files_damaged":1,/);
  });

  test('replay --where keeps only the matching events', () => {
    const capture = join(ROOT, 'test/fixtures/recorded/swaks-pipeline.pcap');
    const all = sensor('replay', capture).stdout.trim().split('\n');
    const { code, stdout } = sensor('replay', capture, '--where',
      'SmtpCommandKind=RCPT OR SmtpVerb=quit');
    assert.equal(code, 0);
    const kept = stdout.trim().split('\n').map((line) => JSON.parse(line).SmtpVerb);
    // swaks --pipeline with two recipients: EHLO, MAIL, RCPT, RCPT, DATA, QUIT.
    assert.equal(all.length, 6);
    assert.deepEqual(kept, ['RCPT', 'RCPT', 'QUIT']);
  });

  test('a bad --where expression points at the fault, exit code 2', () => {
    const { code, stderr } = sensor('replay', join(scratch, 'wifi.pcap'), '--where', 'a=b (');
    assert.equal(code, 2);
    assert.match(stderr, /^smtp-sensor: --where: .* at position 5\n/);
  });

  test('run --where that does not parse: one line naming the position, exit 2, no capture',
    () => {
      const config = join(scratch, 'run-config.yaml');
      writeFileSync(config, 'capture:\n  interface: lo\noutput:\n  sinks:\n    - type: stdout\n');
      const { code, stdout, stderr } = sensor('run', '--config', config, '--where', 'a=(');
      assert.equal(code, 2, stderr);
      assert.equal(stdout, '');
      // One line and nothing else: the agent's log (capture started, stats) never begins.
      assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
      assert.match(stderr,
        /^smtp-sensor: output\.where: expected a hunting expression: .* at position 2\n$/);
    });

  test('query reads events from a file and counts the matches', () => {
    const events = join(scratch, 'events.jsonl');
    writeFileSync(events, sensor('replay',
      join(ROOT, 'test/fixtures/recorded/swaks-pipeline.pcap')).stdout);
    const { code, stdout } = sensor('query', 'SmtpCommandKind=MAIL OR SmtpCommandKind=DATA',
      events, '--count');
    assert.equal(code, 0);
    assert.equal(stdout.trim(), '2');
  });
});
