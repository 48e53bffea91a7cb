import { printableText } from './printable-text.js';

/** A ClientHello is normally under 2 KB; bytes past this are dropped and counted. */
export const MAX_CLIENT_HELLO_BYTES = 16 * 1024;
/** A DNS name is at most 255 bytes (RFC 1035 section 2.3.4); a longer SNI is cut. */
const MAX_SERVER_NAME_BYTES = 255;
const RECORD_HEADER_BYTES = 5;
const HANDSHAKE_HEADER_BYTES = 4;
const CONTENT_HANDSHAKE = 0x16;
const CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;
const EXTENSION_SUPPORTED_VERSIONS = 43;
const NAME_TYPE_HOST_NAME = 0;

const VERSION_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0300, 'SSL 3.0'], [0x0301, 'TLS 1.0'], [0x0302, 'TLS 1.1'], [0x0303, 'TLS 1.2'],
  [0x0304, 'TLS 1.3'],
]);

/** What `push` found: more bytes needed, a ClientHello read, or bytes that are not one. */
export const HelloState = { Incomplete: 0, Read: 1, Unreadable: 2 } as const;
export type HelloState = (typeof HelloState)[keyof typeof HelloState];

/**
 * Reads the client's first TLS handshake message, the ClientHello (RFC 8446 section 4.1.2),
 * from handshake records (section 5.1) that segment boundaries and record boundaries may cut
 * anywhere. Bytes are copied into a buffer of at most MAX_CLIENT_HELLO_BYTES, allocated
 * once per session that turns to TLS.
 */
export class TlsClientHelloReader {
  state: HelloState = HelloState.Incomplete;
  /** SNI host name (RFC 6066 section 3), "" when the hello has none. */
  serverName = '';
  /** Highest version offered: supported_versions (RFC 8446 4.2.1), else legacy_version. */
  version = '';
  /** The hello did not fit in MAX_CLIENT_HELLO_BYTES. */
  overflowed = false;
  private raw: Buffer | null = null;
  private rawLength = 0;

  /** Takes buf[pos, end); returns the new state. `buf` is not kept. */
  push(buf: Uint8Array, pos: number, end: number): HelloState {
    if (this.state !== HelloState.Incomplete) return this.state;
    this.raw ??= Buffer.alloc(MAX_CLIENT_HELLO_BYTES);
    const length = Math.min(end - pos, MAX_CLIENT_HELLO_BYTES - this.rawLength);
    this.raw.set(buf.subarray(pos, pos + length), this.rawLength);
    this.rawLength += length;
    const handshake = handshakeBytes(this.raw, this.rawLength);
    if (handshake === null) this.state = HelloState.Unreadable;
    else if (handshake.bytes.length >= HANDSHAKE_HEADER_BYTES) this.read(handshake.bytes);
    if (this.state === HelloState.Incomplete && handshake?.closed) {
      this.state = HelloState.Unreadable;
    }
    if (this.state === HelloState.Incomplete && this.rawLength === MAX_CLIENT_HELLO_BYTES) {
      this.overflowed = true;
      this.state = HelloState.Unreadable;
    }
    return this.state;
  }

  private read(handshake: Buffer): void {
    if (handshake[0] !== CLIENT_HELLO) {
      this.state = HelloState.Unreadable;
      return;
    }
    const bodyEnd = HANDSHAKE_HEADER_BYTES + handshake.readUIntBE(1, 3);
    if (handshake.length < bodyEnd) return;
    this.state = this.readBody(handshake.subarray(0, bodyEnd)) ? HelloState.Read
      : HelloState.Unreadable;
  }

  /** legacy_version, random, session id, cipher suites, compression, then extensions. */
  private readBody(hello: Buffer): boolean {
    const cursor = new ByteCursor(hello, HANDSHAKE_HEADER_BYTES);
    const legacyVersion = cursor.uint16();
    cursor.skip(32);
    cursor.skip(cursor.uint8());
    cursor.skip(cursor.uint16());
    cursor.skip(cursor.uint8());
    if (!cursor.ok) return false;
    let highest = legacyVersion;
    if (cursor.remaining > 0) {
      const extensionsEnd = cursor.uint16() + cursor.at;
      while (cursor.ok && cursor.at < extensionsEnd) {
        const type = cursor.uint16();
        const dataEnd = cursor.uint16() + cursor.at;
        if (type === EXTENSION_SERVER_NAME) this.serverName = serverName(hello, cursor.at);
        if (type === EXTENSION_SUPPORTED_VERSIONS) highest = highestVersion(hello, cursor.at);
        cursor.skip(dataEnd - cursor.at);
      }
    }
    this.version = VERSION_NAMES.get(highest) ?? `0x${highest.toString(16).padStart(4, '0')}`;
    return cursor.ok;
  }
}

/**
 * The handshake-layer bytes of the handshake records that open raw[0, length), up to the
 * first record of another type (`closed`: no more handshake bytes will come); null when the
 * very first record is not a handshake record.
 */
function handshakeBytes(raw: Buffer, length: number): HandshakeBytes | null {
  const payloads: Buffer[] = [];
  let at = 0;
  let closed = false;
  while (at + RECORD_HEADER_BYTES <= length) {
    if (raw[at] !== CONTENT_HANDSHAKE) {
      if (at === 0) return null;
      closed = true;
      break;
    }
    const payloadEnd = Math.min(length, at + RECORD_HEADER_BYTES + raw.readUInt16BE(at + 3));
    payloads.push(raw.subarray(at + RECORD_HEADER_BYTES, payloadEnd));
    at = payloadEnd;
  }
  return { bytes: Buffer.concat(payloads), closed };
}

interface HandshakeBytes {
  bytes: Buffer;
  closed: boolean;
}

/** server_name_list: the first host_name entry (RFC 6066 section 3). */
function serverName(hello: Buffer, at: number): string {
  const cursor = new ByteCursor(hello, at);
  const listEnd = cursor.uint16() + cursor.at;
  while (cursor.ok && cursor.at < listEnd) {
    const nameType = cursor.uint8();
    const length = cursor.uint16();
    const start = cursor.at;
    cursor.skip(length);
    if (cursor.ok && nameType === NAME_TYPE_HOST_NAME) {
      return printableText(hello, start, start + length, MAX_SERVER_NAME_BYTES);
    }
  }
  return '';
}

/** The highest version in supported_versions, GREASE values (RFC 8701) left out. */
function highestVersion(hello: Buffer, at: number): number {
  const cursor = new ByteCursor(hello, at);
  const listEnd = cursor.uint8() + cursor.at;
  let highest = 0;
  while (cursor.ok && cursor.at + 2 <= listEnd) {
    const version = cursor.uint16();
    if ((version & 0x0f0f) !== 0x0a0a && version > highest) highest = version;
  }
  return highest;
}

/** Reads big-endian integers in bounds; past the end `ok` turns false and reads give 0. */
class ByteCursor {
  ok = true;

  constructor(private readonly buf: Buffer, public at: number) {}

  get remaining(): number {
    return this.buf.length - this.at;
  }

  uint8(): number {
    return this.take(1) ? this.buf[this.at - 1] : 0;
  }

  uint16(): number {
    return this.take(2) ? this.buf.readUInt16BE(this.at - 2) : 0;
  }

  skip(length: number): void {
    this.take(length);
  }

  private take(length: number): boolean {
    if (!this.ok || length < 0 || this.at + length > this.buf.length) {
      this.ok = false;
      return false;
    }
    this.at += length;
    return true;
  }
}
