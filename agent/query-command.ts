import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { EventPredicate, EventRecord } from '../src/events/query/event-predicate.js';
import { MatchTable } from '../src/events/query/match-table.js';
import { compileQuery } from '../src/events/query/query-compiler.js';
import { QueryError } from '../src/events/query/query-error.js';

export interface QueryCommandOptions {
  /** A hunting expression (docs/query-language.md). */
  expression: string;
  /** Event files (one JSON object per line), read in order; standard input when empty. */
  files: string[];
  /** Print only the number of matching events. */
  count: boolean;
  /** Print these fields of each match as aligned columns instead of the lines. */
  table?: string[];
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const EXIT_OK = 0;
const EXIT_OUTPUT_FAILED = 1;
const EXIT_USAGE = 2;

/**
 * `smtp-sensor query EXPR [FILE...]`: prints the event lines that match, unchanged; or their
 * count; or a table of some of their fields. Lines are streamed one at a time, so files of any
 * size work (except in table mode, which keeps the selected cells of every match).
 *
 * Lines that are not JSON objects are skipped, and how many is said once on stderr at the end.
 * Exit codes: 0 done (matches or not, and also when the reader of stdout went away, as in
 * `| head`); 1 stdout failed; 2 a bad expression or an input that cannot be read, with one
 * message on stderr (an input that fails part way leaves the output incomplete).
 *
 * Limitation: readline holds a whole line in memory before it is parsed, so a file without line
 * breaks is read into memory at once; event lines are about a kilobyte.
 */
export async function runQueryCommand(options: QueryCommandOptions): Promise<number> {
  const predicate = compileOrReport(options);
  if (predicate === undefined) return EXIT_USAGE;
  if (options.table !== undefined && options.table.length === 0) {
    options.stderr.write('--table needs at least one field name\n');
    return EXIT_USAGE;
  }

  const unreadable = await findUnreadableFile(options.files);
  if (unreadable !== undefined) {
    options.stderr.write(`${unreadable}\n`);
    return EXIT_USAGE;
  }

  return new QueryRun(predicate, options).run();
}

function compileOrReport(options: QueryCommandOptions): EventPredicate | undefined {
  try {
    return compileQuery(options.expression);
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    options.stderr.write(`${error.message}\n`);
    return undefined;
  }
}

/** Checked before any output, so a typo in the last file name does not leave half a result. */
async function findUnreadableFile(files: readonly string[]): Promise<string | undefined> {
  for (const file of files) {
    try {
      await access(file, constants.R_OK);
      if ((await stat(file)).isDirectory()) return describeReadFailure(file, { code: 'EISDIR' });
    } catch (error) {
      return describeReadFailure(file, error);
    }
  }
  return undefined;
}

function describeReadFailure(source: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const reason = READ_FAILURES[code] ?? (error as Error).message;
  return `cannot read ${source}: ${reason}`;
}

const READ_FAILURES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/** Output is written in batches of about this many characters: one write per line is slow. */
const OUTPUT_BATCH_CHARACTERS = 64 * 1024;

/** One execution of the command: filters the inputs in turn and writes the result. */
class QueryRun {
  private readonly table: MatchTable | undefined;
  private pending: string[] = [];
  private pendingCharacters = 0;
  private matched = 0;
  private skipped = 0;
  private outputError: Error | undefined;

  constructor(
    private readonly predicate: EventPredicate,
    private readonly options: QueryCommandOptions,
  ) {
    this.table = options.table === undefined ? undefined : new MatchTable(options.table);
  }

  /**
   * A failed write reaches both the write callback and an 'error' event; the listener keeps
   * the event from being thrown as unhandled (EPIPE after `| head` is routine). Streams emit it
   * on process.nextTick, which runs before the awaiting code resumes, so it is removed safely.
   */
  async run(): Promise<number> {
    const recordOutputError = (error: Error) => { this.outputError ??= error; };
    this.options.stdout.on('error', recordOutputError);
    try {
      const failure = await this.filterAll();
      if (failure !== undefined) {
        this.options.stderr.write(`${failure}\n`);
        return EXIT_USAGE;
      }

      await this.finish();
      return this.exitCode();
    } finally {
      this.options.stdout.removeListener('error', recordOutputError);
    }
  }

  /** The message for an input that failed while it was read, or undefined when all went. */
  private async filterAll(): Promise<string | undefined> {
    const { files, stdin } = this.options;
    const sources = files.length === 0 ? [undefined] : files;
    for (const file of sources) {
      const input = file === undefined ? undefined : createReadStream(file);
      try {
        await this.filter(input ?? stdin);
      } catch (error) {
        return describeReadFailure(file ?? 'standard input', error);
      } finally {
        input?.destroy();
      }
      if (this.outputError !== undefined) break;
    }
    return undefined;
  }

  private async filter(input: NodeJS.ReadableStream): Promise<void> {
    const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
    for await (const line of lines) {
      if (line.length === 0) continue;
      const event = parseEvent(line);
      if (event === undefined) {
        this.skipped++;
      } else if (this.predicate(event)) {
        this.matched++;
        this.take(line, event);
      }

      if (this.pendingCharacters >= OUTPUT_BATCH_CHARACTERS) await this.flush();
      if (this.outputError !== undefined) break;
    }
  }

  private take(line: string, event: EventRecord): void {
    if (this.table !== undefined) {
      this.table.add(event);
    } else if (!this.options.count) {
      this.pending.push(line, '\n');
      this.pendingCharacters += line.length + 1;
    }
  }

  private async finish(): Promise<void> {
    if (this.table !== undefined) this.pending.push(this.table.render());
    if (this.options.count) this.pending.push(`${this.matched}\n`);
    await this.flush();
    if (this.skipped === 0) return;
    const lines = this.skipped === 1
      ? '1 line that is not a JSON object'
      : `${this.skipped} lines that are not JSON objects`;
    this.options.stderr.write(`skipped ${lines}\n`);
  }

  /**
   * Writes what is pending and waits until stdout has taken it, so at most one batch is in
   * flight (the same back-pressure as waiting for 'drain') and a failed write is seen here.
   */
  private async flush(): Promise<void> {
    if (this.pending.length === 0 || this.outputError !== undefined) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingCharacters = 0;
    await new Promise<void>((resolve) => {
      this.options.stdout.write(text, (error) => {
        if (error) this.outputError ??= error;
        resolve();
      });
    });
  }

  private exitCode(): number {
    const error = this.outputError as NodeJS.ErrnoException | undefined;
    if (error === undefined || error.code === 'EPIPE') return EXIT_OK;
    this.options.stderr.write(`cannot write the results: ${error.message}\n`);
    return EXIT_OUTPUT_FAILED;
  }
}

/** The event on this line, or undefined when the line is not a JSON object. */
function parseEvent(line: string): EventRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  return isObject ? (value as EventRecord) : undefined;
}
