import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineAssembler } from '../../src/smtp/line-assembler.js';
import { LineBudget } from '../../src/smtp/line-budget.js';
import { SmtpSession } from '../../src/smtp/smtp-session.js';
import { SmtpStats } from '../../src/smtp/smtp-stats.js';

const CAP = 4096;

function push(lines: LineAssembler, text: string): number {
  const bytes = Buffer.from(text, 'latin1');
  return lines.push(bytes, 0, bytes.length);
}

function lineText(lines: LineAssembler): string {
  return Buffer.from(lines.line.subarray(lines.lineStart, lines.lineEnd)).toString('latin1');
}

describe('LineBudget: the unfinished lines of all connections together', () => {
  test('a line that needs more room than is left is cut, the rest counted', () => {
    const stats = new SmtpStats();
    const budget = new LineBudget(400, stats);
    const first = new LineAssembler(CAP, budget);
    const second = new LineAssembler(CAP, budget);
    // The first 256 bytes of each line are not counted: 600 bytes take 344 of the budget.
    assert.equal(push(first, 'M'.repeat(600)), -1);
    assert.equal(budget.bytesInUse, 344);
    assert.equal(push(second, 'RCPT TO:<'.padEnd(300, 'x')), -1);
    assert.equal(budget.bytesInUse, 388);
    // 202 more bytes (with the CR) need 502: neither 600 (doubled) nor 502 fit in the 12 left.
    assert.equal(push(second, `${'y'.repeat(200)}>\r\n`), 203);
    assert.equal(second.truncated, true);
    assert.equal(second.overBudget, true);
    assert.equal(lineText(second), 'RCPT TO:<'.padEnd(300, 'x'));
    assert.equal(stats.line_bytes_over_budget, 202);
    // 4 more bytes for the first line fit exactly what it needs.
    assert.equal(push(first, 'AIL\r\n'), 5);
    assert.equal(first.truncated, false);
    assert.equal(lineText(first), `${'M'.repeat(600)}AIL`);
    assert.equal(budget.bytesInUse, 392);
  });

  test('big buffers and the buffers of ended connections go back to the budget', () => {
    const stats = new SmtpStats();
    const budget = new LineBudget(64 * 1024, stats);
    const lines = new LineAssembler(CAP, budget);
    push(lines, 'x'.repeat(3000));
    push(lines, '\r\n');
    assert.equal(budget.bytesInUse, 4096 - 256, 'held while its finished line may be read');
    push(lines, 'NO');
    assert.equal(budget.bytesInUse, 0, 'given back; a small buffer is not counted');
    push(lines, 'x'.repeat(1000));
    assert.ok(budget.bytesInUse > 0);
    lines.release();
    lines.release();
    assert.equal(budget.bytesInUse, 0, 'released once, however often asked');
  });

  test('10,000 sessions holding 4 KiB lines stay within the budget, and are still read', () => {
    const stats = new SmtpStats();
    const budget = new LineBudget(1024 * 1024, stats);
    const sink = { command: () => undefined, anomaly: () => undefined,
      tlsHandshake: () => undefined };
    const sessions = Array.from({ length: 10_000 },
      () => new SmtpSession(sink, stats, { sawHandshake: true, lineBudget: budget }));
    const line = Buffer.from(`MAIL FROM:<${'a'.repeat(3980)}@x>`, 'latin1');
    for (const session of sessions) session.receiveClient(line, 0, line.length, 1);
    assert.ok(budget.bytesInUse <= 1024 * 1024, `${budget.bytesInUse} bytes in use`);
    assert.ok(stats.line_bytes_over_budget > 0);
    const end = Buffer.from('\r\n', 'latin1');
    for (const session of sessions) session.receiveClient(end, 0, end.length, 2);
    assert.equal(stats.commands, 10_000, 'every MAIL reported, cut or whole');
    assert.equal(stats.lines_too_long, 0, 'a line cut by the budget is not too long');
    for (const session of sessions) session.end(3);
    assert.equal(budget.bytesInUse, 0);
  });
});
