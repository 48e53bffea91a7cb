/**
 * Text of wire bytes for an event: printable ASCII and valid UTF-8 as is; control bytes
 * (below 0x20, and 0x7f) and bytes that are not part of valid UTF-8 as the four characters
 * `\xNN`. The result is cut at `maxBytes` of UTF-8 output, never inside a character or an
 * escape.
 */
export function printableText(buf: Uint8Array, start: number, end: number, maxBytes: number) {
  if (isPlainAscii(buf, start, end) && end - start <= maxBytes) {
    // A Buffer slices its own bytes; a view made for a plain Uint8Array costs an object.
    if (buf instanceof Buffer) return buf.toString('latin1', start, end);
    return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
  }
  let out = '';
  let outBytes = 0;
  let i = start;
  while (i < end) {
    const b = buf[i];
    const sequenceLength = b >= 0x80 ? utf8SequenceLength(buf, i, end) : 1;
    let piece: string;
    let pieceBytes: number;
    if (b < 0x20 || b === 0x7f || sequenceLength === 0) {
      piece = '\\x' + HEX[b];
      pieceBytes = 4;
      i += 1;
    } else {
      piece = Buffer.from(buf.buffer, buf.byteOffset + i, sequenceLength).toString('utf8');
      pieceBytes = sequenceLength;
      i += sequenceLength;
    }
    if (outBytes + pieceBytes > maxBytes) break;
    out += piece;
    outBytes += pieceBytes;
  }
  return out;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  b.toString(16).padStart(2, '0'));

function isPlainAscii(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b < 0x20 || b >= 0x7f) return false;
  }
  return true;
}

/**
 * Length of the valid UTF-8 sequence starting at buf[i] (RFC 3629 section 4: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 when it is not one.
 */
function utf8SequenceLength(buf: Uint8Array, i: number, end: number): number {
  const b = buf[i];
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) length = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    length = 3;
    if (b === 0xe0) low = 0xa0;
    if (b === 0xed) high = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    length = 4;
    if (b === 0xf0) low = 0x90;
    if (b === 0xf4) high = 0x8f;
  } else return 0;
  if (i + length > end) return 0;
  const second = buf[i + 1];
  if (second < low || second > high) return 0;
  for (let k = 2; k < length; k++) {
    const next = buf[i + k];
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return length;
}
