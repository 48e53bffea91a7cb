import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KIND_NAMES } from '../../src/smtp/command-kind.js';
import { MAX_SMUGGLED_COMMANDS, SmugglingDetector } from '../../src/smtp/smuggling-detector.js';

interface Outcome {
  findings: string[];
  smuggled: string[];
  dropped: number;
}

/** Scans content cut at `cuts`, each piece in a larger buffer whose other bytes are stale. */
function detect(content: string, cuts: number[] = []): Outcome {
  const detector = new SmugglingDetector();
  detector.reset();
  const bytes = Buffer.from(content, 'latin1');
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length];
  const findings: string[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const piece = bytes.subarray(bounds[k], bounds[k + 1]);
    const stale = Buffer.from('\n.\nMAIL x\r\n', 'latin1');
    const buf = Buffer.concat([stale, piece, stale]);
    let at = stale.length;
    while ((at = detector.scan(buf, at, stale.length + piece.length)) >= 0) {
      findings.push(`${detector.variant} ${detector.verb}`);
    }
  }
  const smuggled = detector.smuggled.map((c) => `${KIND_NAMES[c.kind]} ${c.argument}`);
  return { findings, smuggled, dropped: detector.smuggledDropped };
}

/** Each line worked out from RFC 5321 4.1.1.4: only CRLF.CRLF ends content. */
const cases: { name: string; content: string; findings: string[]; smuggled: string[] }[] = [
  { name: '<LF>.<CR><LF> then MAIL', content: 'a\n.\r\nMAIL FROM:<x@y>\r\nRCPT TO:<z@y>\r\n'
    + 'DATA\r\nRSET\r\n', findings: ['<LF>.<CR><LF> MAIL'],
  smuggled: ['MAIL FROM:<x@y>', 'RCPT TO:<z@y>', 'DATA '] },
  { name: '<LF>.<LF> then RCPT, lines ended by LF', content: 'a\n.\nrcpt TO:<z@y>\nNOTACMD\n',
    findings: ['<LF>.<LF> rcpt'], smuggled: ['RCPT TO:<z@y>'] },
  { name: '<CR>.<CR> then DATA, lines ended by CR', content: 'a\r.\rDATA\rMAIL FROM:<q@y>\r',
    findings: ['<CR>.<CR> DATA'], smuggled: ['DATA '] },
  { name: '<CR><LF>.<CR> then MAIL', content: 'a\r\n.\rMAIL FROM:<x@y>\r\n',
    findings: ['<CR><LF>.<CR> MAIL'], smuggled: ['MAIL FROM:<x@y>'] },
  { name: '<CR>.<LF> and <CR><LF>.<LF> are variants too',
    content: 'a\r.\nMAIL FROM:<a@b>\r\nx\r\n.\nDATA\r\n',
    findings: ['<CR>.<LF> MAIL', '<CR><LF>.<LF> DATA'], smuggled: ['MAIL FROM:<a@b>', 'DATA '] },
  { name: 'the first content line counts as after a CRLF', content: '.\nMAIL FROM:<a@b>\r\n',
    findings: ['<CR><LF>.<LF> MAIL'], smuggled: ['MAIL FROM:<a@b>'] },
  { name: 'other verbs, dot-stuffing and the real end are no finding',
    content: 'a\n.\nQUIT\r\n..MAIL\r\nb\n.\nHELO x\r\nMAI\r\n.\r\n', findings: [],
    smuggled: [] },
  { name: 'AUTH ends what is kept: the lines after it may be credentials',
    content: 'a\n.\nMAIL FROM:<a@b>\r\nAUTH LOGIN\r\nHELO\r\nQUIT\r\n',
    findings: ['<LF>.<LF> MAIL'], smuggled: ['MAIL FROM:<a@b>', 'AUTH LOGIN'] },
];

describe('SmugglingDetector', () => {
  for (const c of cases) {
    test(`${c.name}, whole and cut at every byte boundary`, () => {
      for (let cut = 0; cut < c.content.length; cut++) {
        const outcome = detect(c.content, [cut]);
        assert.deepEqual(outcome.findings, c.findings, `cut at ${cut}`);
        assert.deepEqual(outcome.smuggled, c.smuggled, `cut at ${cut}`);
      }
      const oneByOne = detect(c.content, Array.from(c.content, (_, i) => i));
      assert.deepEqual(oneByOne.findings, c.findings, 'one byte per piece');
      assert.deepEqual(oneByOne.smuggled, c.smuggled, 'one byte per piece');
    });
  }

  test('more hidden commands than the limit are counted, not kept', () => {
    const outcome = detect('a\n.\n' + 'RCPT TO:<r@y>\r\n'.repeat(MAX_SMUGGLED_COMMANDS + 3));
    assert.equal(outcome.smuggled.length, MAX_SMUGGLED_COMMANDS);
    assert.equal(outcome.dropped, 3);
  });

  test('long content takes the search path and finds a variant far in', () => {
    const outcome = detect('x'.repeat(5000) + '\n.\nMAIL FROM:<a@b>\r\n' + 'y'.repeat(200));
    assert.deepEqual(outcome.findings, ['<LF>.<LF> MAIL']);
  });
});
