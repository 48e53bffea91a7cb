/** TLS record content types (RFC 8446 section 5.1). */
export const TlsContentType = {
  HANDSHAKE: 22,
  APPLICATION_DATA: 23,
} as const;

const LEGACY_RECORD_VERSION = 0x0303;

export function encodeTlsRecord(contentType: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(contentType, 0);
  header.writeUInt16BE(LEGACY_RECORD_VERSION, 1);
  header.writeUInt16BE(body.length, 3);
  return Buffer.concat([header, body]);
}

/**
 * A TLS 1.3 ClientHello record with an SNI host name (RFC 6066 section 3) and
 * supported_versions offering 1.3 and 1.2. The random is fixed so captures are reproducible.
 */
export function encodeTlsClientHello(serverName: string): Buffer {
  const body = Buffer.concat([
    uint16(LEGACY_RECORD_VERSION),
    Buffer.alloc(32, 0x5a),
    Buffer.from([0]),
    withLength16(Buffer.concat([uint16(0x1301), uint16(0xc02f)])),
    Buffer.from([1, 0]),
    withLength16(Buffer.concat([serverNameExtension(serverName), supportedVersionsExtension()])),
  ]);
  const handshake = Buffer.concat([Buffer.from([1]), uint24(body.length), body]);
  return encodeTlsRecord(TlsContentType.HANDSHAKE, handshake);
}

function serverNameExtension(serverName: string): Buffer {
  const name = Buffer.from(serverName, 'ascii');
  const entry = Buffer.concat([Buffer.from([0]), withLength16(name)]);
  return extension(0, withLength16(entry));
}

function supportedVersionsExtension(): Buffer {
  const versions = Buffer.concat([uint16(0x0304), uint16(0x0303)]);
  return extension(43, Buffer.concat([Buffer.from([versions.length]), versions]));
}

function extension(type: number, data: Buffer): Buffer {
  return Buffer.concat([uint16(type), withLength16(data)]);
}

function withLength16(data: Buffer): Buffer {
  return Buffer.concat([uint16(data.length), data]);
}

function uint16(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value, 0);
  return bytes;
}

function uint24(value: number): Buffer {
  return Buffer.from([(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff]);
}
