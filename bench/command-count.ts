import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** How many lines an output file has, and how many of them carry each verb. */
export interface CommandCount {
  lines: number;
  verbs: Record<string, number>;
}

/**
 * Counts the lines of `path`; `verbOf` names the verb of one line (upper-cased here), or
 * returns null for a line that is no command.
 */
export async function countCommands(
  path: string, verbOf: (line: string) => string | null,
): Promise<CommandCount> {
  const count: CommandCount = { lines: 0, verbs: {} };
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    count.lines++;
    const verb = verbOf(line)?.toUpperCase() ?? '(none)';
    count.verbs[verb] = (count.verbs[verb] ?? 0) + 1;
  }
  return count;
}

const SENSOR_VERB = /"SmtpVerb":"([^"]*)"/;

/** A sensor event line: its SmtpVerb field. */
export function sensorVerb(line: string): string | null {
  return SENSOR_VERB.exec(line)?.[1] ?? null;
}

/** A `tshark -T fields -e smtp.req.command -e smtp.req.parameter` line: its first field. */
export function tsharkVerb(line: string): string | null {
  const verb = line.split('\t', 1)[0];
  return verb === '' ? null : verb;
}
