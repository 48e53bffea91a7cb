import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EndOfDataScanner } from '../../src/smtp/end-of-data-scanner.js';
import { usePropertySeed } from '../helpers/property-seed.js';

usePropertySeed();

/**
 * The reference: content starts after the DATA line's CRLF, so the end is the first CRLF "."
 * CRLF in CRLF + content; returns the index in content just after it, or -1.
 */
function referenceEnd(content: Buffer): number {
  const found = Buffer.concat([Buffer.from('\r\n'), content]).indexOf('\r\n.\r\n');
  return found < 0 ? -1 : found + 5 - 2;
}

/** Feeds content in pieces cut at `cuts`, each piece in a larger buffer with stale bytes. */
function scannerEnd(content: Buffer, cuts: number[]): number {
  const scanner = new EndOfDataScanner();
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < content.length).sort((a, b) => a - b),
    content.length];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const piece = content.subarray(bounds[k], bounds[k + 1]);
    // Stale bytes after the piece hold an end-of-data line that must not be found.
    const buf = Buffer.concat([Buffer.from('xx'), piece, Buffer.from('\r\n.\r\n\r\n.\r\n')]);
    const next = scanner.scan(buf, 2, 2 + piece.length);
    if (next >= 0) return bounds[k] + next - 2;
  }
  return -1;
}

const contentByte = fc.constantFrom(0x0d, 0x0a, 0x2e, 0x41, 0x20);
const content = fc.array(contentByte, { maxLength: 400 }).map((bytes) => Buffer.from(bytes));

test('the end of data is found where the reference finds it, whatever the cuts', () => {
  fc.assert(fc.property(content, fc.array(fc.nat(400), { maxLength: 6 }), (body, cuts) => {
    assert.equal(scannerEnd(body, cuts), referenceEnd(body));
  }), { numRuns: 3000 });
});

test('long lines take the search path and still find a split end of data', () => {
  const body = Buffer.from('a'.repeat(500) + '\r\n' + 'b'.repeat(300) + '\r\n.\r\nQUIT\r\n');
  const end = referenceEnd(body);
  assert.equal(body.subarray(end).toString(), 'QUIT\r\n');
  for (let cut = 1; cut < body.length; cut++) assert.equal(scannerEnd(body, [cut]), end);
});

test('a bare LF dot LF is not the end (RFC 5321 section 4.1.1.4)', () => {
  assert.equal(scannerEnd(Buffer.from('x\n.\nMAIL FROM:<a@b>\n' + 'y'.repeat(100)), []), -1);
});

test('an empty message ends at once', () => {
  assert.equal(scannerEnd(Buffer.from('.\r\nQUIT\r\n'), []), 3);
});
