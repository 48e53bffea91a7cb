import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runQueryCommand } from '../../agent/query-command.js';

const FIXTURE = fileURLToPath(
  new URL('../../../test/events/fixtures/hunt-events.jsonl', import.meta.url),
);
const FIXTURE_LINES = readFileSync(FIXTURE, 'utf8').trimEnd().split('\n');
const SENDER_QUERY = 'event_simpleName=SmtpCommand CommandArg1="*<suspicious-sender@domain.com>*"';

/** Fixture lines 7, 10, 15 and 20 are the ones SENDER_QUERY matches. */
const SENDER_LINES = [7, 10, 15, 20].map((number) => FIXTURE_LINES[number - 1]);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  expression: string;
  files?: string[];
  count?: boolean;
  table?: string[];
  stdinText?: string;
}

async function run(options: RunOptions): Promise<Outcome> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  stdin.end(options.stdinText ?? '');
  const code = await runQueryCommand({
    expression: options.expression,
    files: options.files ?? [],
    count: options.count ?? false,
    table: options.table,
    stdin, stdout, stderr,
  });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

const scratch = mkdtempSync(join(tmpdir(), 'query-command-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function scratchFile(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

describe('runQueryCommand prints the matching lines unchanged', () => {
  it('filters a file', async () => {
    const outcome = await run({ expression: SENDER_QUERY, files: [FIXTURE] });
    assert.deepEqual(outcome, { code: 0, stdout: SENDER_LINES.join('\n') + '\n', stderr: '' });
  });

  it('reads several files in the order given', async () => {
    const first = scratchFile('first.jsonl', `${FIXTURE_LINES[14]}\n`);
    const outcome = await run({ expression: SENDER_QUERY, files: [first, FIXTURE, first] });
    const expected = [FIXTURE_LINES[14], ...SENDER_LINES, FIXTURE_LINES[14]];
    assert.equal(outcome.stdout, expected.join('\n') + '\n');
  });

  it('reads standard input when no file is given', async () => {
    const stdinText = FIXTURE_LINES.join('\n') + '\n';
    const outcome = await run({ expression: SENDER_QUERY, stdinText });
    assert.deepEqual(outcome, { code: 0, stdout: SENDER_LINES.join('\n') + '\n', stderr: '' });
  });

  it('keeps the spacing, key order and escapes of a line as they were', async () => {
    const line = '{ "b" : "\\u0041\\"x" ,"a":"1"}';
    const outcome = await run({ expression: 'a=1', stdinText: `${line}\n` });
    assert.equal(outcome.stdout, `${line}\n`);
  });

  it('takes a last line without a line break, and ends lines in CRLF with LF', async () => {
    const outcome = await run({ expression: 'a=*', stdinText: '{"a":"1"}\r\n{"a":"2"}' });
    assert.equal(outcome.stdout, '{"a":"1"}\n{"a":"2"}\n');
  });

  it('prints nothing and exits 0 when nothing matches', async () => {
    const outcome = await run({ expression: 'event_simpleName=Nothing', files: [FIXTURE] });
    assert.deepEqual(outcome, { code: 0, stdout: '', stderr: '' });
  });

  it('keeps every line of a large result when stdout is read slowly', async () => {
    const lines = Array.from({ length: 20_000 }, (_, index) => `{"n":"${index}"}`);
    const stdout = new PassThrough({ highWaterMark: 1024 });
    const received: Buffer[] = [];
    const reader = setInterval(() => {
      let chunk: Buffer | null;
      while ((chunk = stdout.read() as Buffer | null) !== null) received.push(chunk);
    }, 1);
    const stdin = new PassThrough();
    stdin.end(lines.join('\n'));
    const code = await runQueryCommand({
      expression: 'n=*', files: [], count: false, stdin, stdout, stderr: new PassThrough(),
    });
    clearInterval(reader);
    received.push(...[stdout.read() as Buffer | null].filter((chunk) => chunk !== null));
    assert.equal(code, 0);
    assert.equal(Buffer.concat(received).toString(), lines.join('\n') + '\n');
  });
});

describe('runQueryCommand --count and --table', () => {
  it('--count prints the number of matches only', async () => {
    const outcome = await run({ expression: SENDER_QUERY, files: [FIXTURE], count: true });
    assert.deepEqual(outcome, { code: 0, stdout: '4\n', stderr: '' });
  });

  it('--count prints 0 when nothing matches', async () => {
    const outcome = await run({ expression: 'a=b', files: [FIXTURE], count: true });
    assert.equal(outcome.stdout, '0\n');
  });

  it('--table aligns the fields of each match under a header, kinds by name', async () => {
    const table = ['ComputerName', 'SmtpCommandKind', 'CommandArg1'];
    const outcome = await run({ expression: SENDER_QUERY, files: [FIXTURE], table });
    assert.equal(outcome.stdout, [
      'ComputerName  SmtpCommandKind  CommandArg1',
      'web-03        MAIL             FROM:<Suspicious-Sender@Domain.com>',
      'dev-07        MAIL             FROM:<suspicious-sender@domain.com>',
      'web-03        MAIL             FROM:<suspicious-sender@domain.com>',
      'web-03        MAIL             from:<SUSPICIOUS-SENDER@DOMAIN.COM>',
      '',
    ].join('\n'));
  });

  it('--table leaves missing fields empty and shows unknown kind numbers as numbers', async () => {
    const stdinText = [
      '{"SmtpCommandKind":"99","SmtpVerb":"XEXF"}',
      '{"SmtpCommandKind":"13"}',
      '{"SmtpVerb":"NOOP","SmtpCommandKind":"x"}',
    ].join('\n');
    const table = ['SmtpVerb', 'SmtpCommandKind'];
    const outcome = await run({ expression: 'SmtpCommandKind=*', stdinText, table });
    assert.equal(outcome.stdout, [
      'SmtpVerb  SmtpCommandKind',
      'XEXF      99',
      '          QUIT',
      'NOOP      x',
      '',
    ].join('\n'));
  });

  it('--table writes control characters as \\xNN so a cell cannot drive the terminal', async () => {
    const stdinText = '{"a":"red\\u001b[31m","b":"two\\nlines"}\n';
    const outcome = await run({ expression: 'a=*', stdinText, table: ['a', 'b'] });
    assert.equal(outcome.stdout, 'a            b\nred\\x1b[31m  two\\x0alines\n');
  });

  it('--table with no field names is refused with exit code 2', async () => {
    const outcome = await run({ expression: 'a=*', files: [FIXTURE], table: [] });
    assert.equal(outcome.code, 2);
    assert.equal(outcome.stdout, '');
    assert.equal(outcome.stderr, '--table needs at least one field name\n');
  });
});

describe('runQueryCommand skips lines that are not JSON objects', () => {
  it('counts them and says so once, at the end, on stderr', async () => {
    const stdinText = ['{"a":"1"}', 'not json', '[1,2]', 'null', '"text"', '', '{"a":"2"',
      '{"a":"3"}'].join('\n');
    const outcome = await run({ expression: 'a=*', stdinText });
    assert.deepEqual(outcome, {
      code: 0,
      stdout: '{"a":"1"}\n{"a":"3"}\n',
      stderr: 'skipped 5 lines that are not JSON objects\n',
    });
  });

  it('uses the singular for one line', async () => {
    const outcome = await run({ expression: 'a=*', stdinText: 'oops\n', count: true });
    assert.deepEqual(outcome, {
      code: 0, stdout: '0\n', stderr: 'skipped 1 line that is not a JSON object\n',
    });
  });
});

describe('runQueryCommand refuses bad input with exit code 2 and one line on stderr', () => {
  it('a missing file, before printing anything from the files before it', async () => {
    const missing = join(scratch, 'missing.jsonl');
    const outcome = await run({ expression: SENDER_QUERY, files: [FIXTURE, missing] });
    assert.deepEqual(outcome, {
      code: 2, stdout: '', stderr: `cannot read ${missing}: no such file\n`,
    });
  });

  it('a directory given as a file, before printing anything from the files before it', async () => {
    const outcome = await run({ expression: SENDER_QUERY, files: [FIXTURE, scratch] });
    assert.deepEqual(outcome, {
      code: 2, stdout: '', stderr: `cannot read ${scratch}: it is a directory\n`,
    });
  });

  it('a bad expression, with the caret under the problem, before any file is opened', async () => {
    const expression = 'event_simpleName=SmtpCommand RemotePort=';
    const outcome = await run({ expression, files: [join(scratch, 'missing.jsonl')] });
    assert.deepEqual(outcome, {
      code: 2,
      stdout: '',
      stderr: [
        "expected a value after '=' at position 40",
        `  ${expression}`,
        `  ${' '.repeat(40)}^`,
        '',
      ].join('\n'),
    });
  });
});

describe('runQueryCommand when stdout goes away', () => {
  it('stops and exits 0 on EPIPE, as when piped into head', async () => {
    const stdout = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const stdin = new PassThrough();
    stdin.end(FIXTURE_LINES.join('\n'));
    const stderr = new PassThrough();
    const code = await runQueryCommand({
      expression: 'event_simpleName=*', files: [], count: false, stdin, stdout, stderr,
    });
    assert.equal(code, 0);
    assert.equal(stderr.read(), null);
  });

  it('exits 1 with a message when stdout fails otherwise', async () => {
    const stdout = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      },
    });
    const stdin = new PassThrough();
    stdin.end(FIXTURE_LINES.join('\n'));
    const stderr = new PassThrough();
    const code = await runQueryCommand({
      expression: 'event_simpleName=*', files: [], count: true, stdin, stdout, stderr,
    });
    assert.equal(code, 1);
    assert.equal(String(stderr.read()), 'cannot write the results: no space left on device\n');
  });
});
