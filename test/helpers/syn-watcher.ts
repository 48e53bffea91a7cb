import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

const START_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 10;
/** "... IP 127.0.0.1.40000 > 127.0.0.1.2525: Flags [S], seq 3912345678, ..." (-nn -S). */
const SYN_LINE = /IP6? (\S+)\.(\d+) > \S+\.\d+: Flags \[S\], seq (\d+)/;

/**
 * The initial sequence numbers of the clients' SYNs to one port, as tcpdump (a second tool)
 * captures them on every interface: what a connect record is keyed by besides the
 * four-tuple. A client's SYN is seen before its connect() returns, so ask after it connected.
 */
export class SynWatcher {
  /** Each client's SYN sequence numbers, a retransmission counted once. */
  private readonly sequences = new Map<string, number[]>();
  private buffered = '';

  private constructor(private readonly tcpdump: ChildProcess) {
    tcpdump.stdout!.on('data', (chunk: Buffer) => this.take(chunk.toString('latin1')));
  }

  /** Starts tcpdump for SYNs (no ACK) to `port`, IPv4 and IPv6 without extension headers. */
  static async start(port: number): Promise<SynWatcher> {
    const filter = `dst port ${port} and (tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn `
      + 'or (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02))';
    const tcpdump = spawn('tcpdump', ['-i', 'any', '-nn', '-S', '-l', filter],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    tcpdump.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!stderr.includes('listening on')) {
      if (tcpdump.exitCode !== null || Date.now() > deadline) {
        tcpdump.kill();
        throw new Error(`tcpdump did not start: ${stderr}`);
      }
      await sleep(POLL_INTERVAL_MS);
    }
    return new SynWatcher(tcpdump);
  }

  /** The last SYN's sequence number from `address` port `port`, waited for a while. */
  async sequenceOf(address: string, port: number): Promise<number> {
    return (await this.sequencesOf(address, port, 1)).at(-1)!;
  }

  /** The first `count` connections' SYN sequence numbers from `address` port `port`. */
  async sequencesOf(address: string, port: number, count: number, timeoutMs = 5_000)
    : Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const sequences = this.sequences.get(`${address} ${port}`) ?? [];
      if (sequences.length >= count) return sequences.slice(0, count);
      if (Date.now() > deadline) {
        throw new Error(`${sequences.length} SYNs from ${address} port ${port}, not ${count}`);
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  async stop(): Promise<void> {
    if (this.tcpdump.exitCode !== null) return;
    this.tcpdump.kill();
    await once(this.tcpdump, 'exit');
  }

  private take(text: string): void {
    const lines = (this.buffered + text).split('\n');
    this.buffered = lines.pop() ?? '';
    for (const line of lines) {
      const match = SYN_LINE.exec(line);
      if (match === null) continue;
      const client = `${match[1]} ${match[2]}`;
      const sequences = this.sequences.get(client) ?? [];
      if (sequences.at(-1) !== Number(match[3])) sequences.push(Number(match[3]));
      this.sequences.set(client, sequences);
    }
  }
}
