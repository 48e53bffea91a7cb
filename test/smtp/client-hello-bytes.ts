/**
 * ClientHello records built field by field (RFC 8446 section 4.1.2), for tests that need
 * what test/helpers/tls-records.ts does not make: no SNI, no supported_versions, GREASE,
 * a hello split over several records.
 */
export interface ClientHelloShape {
  serverName?: string;
  /** supported_versions entries; none means the extension is absent. */
  versions?: number[];
  legacyVersion?: number;
  /** Handshake bytes per TLS record; the whole hello in one record when absent. */
  recordSize?: number;
}

export function clientHelloBytes(shape: ClientHelloShape): Buffer {
  const extensions: Buffer[] = [];
  if (shape.serverName !== undefined) {
    const name = Buffer.from(shape.serverName, 'latin1');
    const entry = Buffer.concat([Buffer.from([0]), length16(name)]);
    extensions.push(extension(0, length16(entry)));
  }
  if (shape.versions !== undefined) {
    const list = Buffer.concat(shape.versions.map(uint16));
    extensions.push(extension(43, Buffer.concat([Buffer.from([list.length]), list])));
  }
  const body = Buffer.concat([uint16(shape.legacyVersion ?? 0x0303), Buffer.alloc(32, 7),
    Buffer.from([0]), length16(uint16(0x1301)), Buffer.from([1, 0]),
    length16(Buffer.concat(extensions))]);
  const handshake = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]),
    body]);
  const size = shape.recordSize ?? handshake.length;
  const records: Buffer[] = [];
  for (let at = 0; at < handshake.length; at += size) {
    const piece = handshake.subarray(at, at + size);
    records.push(Buffer.concat([Buffer.from([0x16, 3, 1]), uint16(piece.length), piece]));
  }
  return Buffer.concat(records);
}

function extension(type: number, data: Buffer): Buffer {
  return Buffer.concat([uint16(type), length16(data)]);
}

function length16(data: Buffer): Buffer {
  return Buffer.concat([uint16(data.length), data]);
}

function uint16(value: number): Buffer {
  return Buffer.from([value >> 8, value & 0xff]);
}
