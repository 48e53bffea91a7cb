import fc from 'fast-check';
import { ethernetEncapsulation } from '../helpers/link-encapsulation.js';
import type { PcapFrame } from '../helpers/pcap-writer.js';
import { TcpConversation } from '../helpers/tcp-conversation.js';

/** One client command line and the server's reply to it. */
export interface Exchange {
  client: string;
  reply: string;
  /** An AUTH credential line: never a command, and never to appear in an event. */
  credential?: boolean;
}

/** A random SMTP session, how its bytes are cut into segments and the ISNs. */
export interface SessionPlan {
  exchanges: Exchange[];
  /** Segment payload sizes, used in turn and cycled, for every send of either side. */
  cutSizes: number[];
  clientInitialSequence: number;
  serverInitialSequence: number;
}

export const ENCAPSULATION = ethernetEncapsulation();
/** Byte 11 of an Ethernet frame from the helpers' encapsulation: last byte of source MAC. */
const SOURCE_MAC_LAST_BYTE = 11;
const CLIENT_MAC_LAST_BYTE = 0x10;

/**
 * Lines that look like commands inside message content: a reader that mistook content for
 * commands would report them, and none of them is ever sent as a command.
 */
const BODY_LINES = ['Subject: hi', '', 'RCPT TO:<mallory@evil.example>', 'DATA',
  'MAIL FROM:<mallory@evil.example>', '..leading dot', 'QUIT', 'Hello Bob.', 'x'.repeat(300)];
const ADDRESSES = ['alice@example.org', 'bob@example.net', 'carol@example.com'];

const transaction = fc.record({
  from: fc.constantFrom(...ADDRESSES),
  recipients: fc.array(fc.constantFrom(...ADDRESSES), { minLength: 1, maxLength: 3 }),
  body: fc.array(fc.constantFrom(...BODY_LINES), { maxLength: 6 }),
});

/**
 * AUTH LOGIN's two base64 lines (RFC 4954 section 4), chosen among valid base64 that reads as
 * a command: HELO and QUIT are both, as a real user name or password may be.
 */
export const CREDENTIAL_LINES = ['HELO', 'QUIT', 'UVVJVA==', 'c2VjcmV0LXBhc3M='];

const exchanges = fc.record({
  ehlo: fc.constantFrom('client.example.org', 'a', 'mx-1.example.net'),
  login: fc.option(fc.tuple(fc.constantFrom(...CREDENTIAL_LINES),
    fc.constantFrom(...CREDENTIAL_LINES)), { nil: undefined }),
  transactions: fc.array(transaction, { maxLength: 3 }),
  extra: fc.array(fc.constantFrom('NOOP', 'RSET', 'VRFY bob'), { maxLength: 2 }),
}).map(({ ehlo, login, transactions, extra }) => {
  const list: Exchange[] = [{ client: `EHLO ${ehlo}\r\n`, reply: '250-mx\r\n250 PIPELINING\r\n' }];
  if (login !== undefined) {
    list.push({ client: 'AUTH LOGIN\r\n', reply: '334 VXNlcm5hbWU6\r\n' });
    list.push({ client: `${login[0]}\r\n`, reply: '334 UGFzc3dvcmQ6\r\n', credential: true });
    list.push({ client: `${login[1]}\r\n`, reply: '235 2.7.0 ok\r\n', credential: true });
  }
  for (const t of transactions) {
    list.push({ client: `MAIL FROM:<${t.from}>\r\n`, reply: '250 2.1.0 Ok\r\n' });
    for (const to of t.recipients) {
      list.push({ client: `RCPT TO:<${to}>\r\n`, reply: '250 2.1.5 Ok\r\n' });
    }
    list.push({ client: 'DATA\r\n', reply: '354 End data with <CR><LF>.<CR><LF>\r\n' });
    const body = t.body.map((line) => `${line}\r\n`).join('');
    list.push({ client: `${body}.\r\n`, reply: '250 2.0.0 Ok: queued\r\n' });
  }
  for (const command of extra) list.push({ client: `${command}\r\n`, reply: '250 Ok\r\n' });
  list.push({ client: 'QUIT\r\n', reply: '221 Bye\r\n' });
  return list;
});

/** Initial sequence numbers, often close enough to 2^32 for the session to wrap. */
const initialSequence = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: 0xffffff00, max: 0xffffffff }));

export const sessionPlan: fc.Arbitrary<SessionPlan> = fc.record({
  exchanges,
  cutSizes: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 20 }),
  clientInitialSequence: initialSequence,
  serverInitialSequence: initialSequence,
});

/**
 * Sessions whose credentials could be told from commands by what the capture shows. A
 * credential that reads as a command without arguments (QUIT) cannot, once both the AUTH line
 * and the server's 334 or 235 are missing: a capture that starts right after them, or a
 * client-only capture whose AUTH line was lost (docs/how-it-works.md, "Known limitations").
 */
export const distinguishableSessionPlan = sessionPlan.filter((plan) =>
  !plan.exchanges.some((exchange) => exchange.credential && exchange.client === 'QUIT\r\n'));

/** The session's packets in capture order: handshake, lock-step exchanges, FINs. */
export function sessionFrames(plan: SessionPlan, whole = false): PcapFrame[] {
  const conversation = new TcpConversation({
    client: { address: '10.0.0.1', port: 40000 },
    server: { address: '10.0.0.2', port: 25 },
    clientInitialSequence: plan.clientInitialSequence,
    serverInitialSequence: plan.serverInitialSequence,
  });
  conversation.handshake();
  let cut = 0;
  const sizesFor = (length: number): number[] => {
    const sizes: number[] = [];
    for (let total = 0; !whole && total < length; cut++) {
      const size = Math.min(plan.cutSizes[cut % plan.cutSizes.length], length - total);
      sizes.push(size);
      total += size;
    }
    return sizes;
  };
  conversation.send('server', '220 mx ESMTP\r\n', { segmentSizes: sizesFor(14) });
  for (const { client, reply } of plan.exchanges) {
    conversation.send('client', client, { segmentSizes: sizesFor(client.length) });
    conversation.send('server', reply, { segmentSizes: sizesFor(reply.length) });
  }
  conversation.close();
  return conversation.toFrames(ENCAPSULATION);
}

export function isFromClient(frame: PcapFrame): boolean {
  return frame.bytes[SOURCE_MAC_LAST_BYTE] === CLIENT_MAC_LAST_BYTE;
}

/** TCP payload length of an Ethernet/IPv4 frame. */
export function payloadLength(frame: PcapFrame): number {
  const ipHeader = (frame.bytes[14] & 0x0f) * 4;
  const tcpHeader = (frame.bytes[14 + ipHeader + 12] >> 4) * 4;
  return frame.bytes.readUInt16BE(16) - ipHeader - tcpHeader;
}

/** Small deterministic generator (mulberry32), so that a shrunk seed replays exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Shuffles each run of consecutive frames from one side (the handshake excepted), so that
 * every reply still follows the command it answers, then inserts copies of `duplicates`
 * data frames at random later places.
 */
export function reorderAndDuplicate(
  frames: readonly PcapFrame[], seed: number, duplicates: number,
): PcapFrame[] {
  const random = seededRandom(seed);
  const result = frames.slice(0, 3);
  let run: PcapFrame[] = [];
  const flush = () => {
    for (let i = run.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [run[i], run[j]] = [run[j], run[i]];
    }
    result.push(...run);
    run = [];
  };
  for (const frame of frames.slice(3)) {
    if (run.length > 0 && isFromClient(run[0]) !== isFromClient(frame)) flush();
    run.push(frame);
  }
  flush();
  for (let n = 0; n < duplicates; n++) {
    const index = Math.floor(random() * result.length);
    if (payloadLength(result[index]) === 0) continue;
    const later = index + 1 + Math.floor(random() * (result.length - index));
    result.splice(later, 0, result[index]);
  }
  return result;
}

/** The commands a plan sends, as `VERB argument`: message content is never a command. */
export function sentCommands(plan: SessionPlan): string[] {
  const commands: string[] = [];
  let inBody = false;
  for (const { client, credential } of plan.exchanges) {
    if (!inBody && !credential) commands.push(client.replace('\r\n', '').replace(' ', '\u0000'));
    inBody = client === 'DATA\r\n';
  }
  return commands.map((line) => {
    const [verb, argument = ''] = line.split('\u0000');
    return `${verb} ${argument}`;
  });
}

/** The frames less those at `drops` (taken modulo the frame count). */
export function dropFrames(frames: readonly PcapFrame[], drops: readonly number[]): PcapFrame[] {
  const dropped = new Set(drops.map((index) => index % frames.length));
  return frames.filter((_, index) => !dropped.has(index));
}
