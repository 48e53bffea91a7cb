/** An event as the sensor prints it: every value is a string (DESIGN: "The SmtpCommand event"). */
export type SensorEvent = Record<string, unknown>;

/** Event kinds always compared; other kinds only when an expected file lists one of them. */
const ALWAYS_COMPARED = new Set(['SmtpCommand']);
const OPTIONALLY_COMPARED = new Set(['SmtpAnomaly']);
/** Shown for an event that has no expected counterpart. */
const SUMMARY_FIELDS = ['event_simpleName', 'SmtpVerb', 'SmtpCommandKind', 'CommandArg1'];

/** Parses JSON lines; blank lines are skipped, anything else that is not an object throws. */
export function parseJsonLines(text: string, source: string): SensorEvent[] {
  return text
    .split('\n')
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== '')
    .map(({ line, number }) => {
      try {
        return JSON.parse(line) as SensorEvent;
      } catch (error) {
        throw new Error(`${source} line ${number} is not JSON: ${line.slice(0, 200)}`, {
          cause: error,
        });
      }
    });
}

/**
 * Compares printed events with an expected file: each expected object lists a subset of
 * one event's fields, which must be equal. Events are matched in order within each compared
 * kind, kind by kind, since the order between kinds (a command and the anomaly its line
 * raised) is not part of the contract. Returns "" when they match, else a readable diff.
 */
export function describeEventMismatch(
  expected: readonly SensorEvent[],
  actual: readonly SensorEvent[],
): string {
  const kinds = new Set(ALWAYS_COMPARED);
  for (const event of expected) {
    const kind = String(event.event_simpleName);
    if (OPTIONALLY_COMPARED.has(kind)) kinds.add(kind);
  }
  const reports = [...kinds].map((kind) =>
    describeKindMismatch(
      kind,
      expected.filter((event) => event.event_simpleName === kind),
      actual.filter((event) => event.event_simpleName === kind),
    ),
  );
  return reports.filter((report) => report !== '').join('\n');
}

function describeKindMismatch(
  kind: string,
  expected: readonly SensorEvent[],
  actual: readonly SensorEvent[],
): string {
  const lines: string[] = [];
  const count = Math.max(expected.length, actual.length);
  for (let index = 0; index < count; index += 1) {
    const wanted = expected[index];
    const got = actual[index];
    if (wanted !== undefined && got !== undefined && matchesSubset(wanted, got)) continue;
    const fields = wanted === undefined ? SUMMARY_FIELDS : Object.keys(wanted);
    const wantedText = wanted === undefined ? '(none)' : JSON.stringify(wanted);
    lines.push(`  #${index + 1} expected ${wantedText}`);
    lines.push(`  #${index + 1} actual   ${got === undefined ? '(none)' : project(got, fields)}`);
  }
  if (lines.length === 0) return '';
  const header = `${kind}: expected ${expected.length} events, the sensor printed ${actual.length}`;
  return [header, ...lines].join('\n');
}

function matchesSubset(wanted: SensorEvent, got: SensorEvent): boolean {
  return Object.entries(wanted).every(([field, value]) => got[field] === value);
}

/** The event reduced to the fields the expectation names, in that order. */
function project(event: SensorEvent, fields: readonly string[]): string {
  const projected: SensorEvent = {};
  for (const field of fields) projected[field] = event[field] ?? '(absent)';
  return JSON.stringify(projected);
}
