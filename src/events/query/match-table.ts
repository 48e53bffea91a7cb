import type { EventRecord } from './event-predicate.js';
import { KIND_FIELD, KIND_NAMES } from './kind-names.js';

/** Space between two columns. */
const COLUMN_GAP = '  ';

/** C0 controls, DEL and C1 controls: printed raw they could move the cursor or recolour. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Matching events laid out as aligned columns for a terminal: a header row of field names, then
 * one row per event. A missing field is an empty cell and SmtpCommandKind shows its kind's name.
 *
 * Columns can only be aligned once every row is known, so the table keeps the selected cells of
 * every match until `render`; it is meant for results a person reads, not for bulk output.
 */
export class MatchTable {
  private readonly rows: string[][] = [];
  private readonly widths: number[];

  constructor(private readonly columns: readonly string[]) {
    this.widths = columns.map((column) => printable(column).length);
  }

  add(event: EventRecord): void {
    const cells = this.columns.map((column) => cellText(column, event[column]));
    cells.forEach((cell, index) => {
      this.widths[index] = Math.max(this.widths[index], cell.length);
    });
    this.rows.push(cells);
  }

  /** The header and every row, each ending with a line break; no trailing spaces. */
  render(): string {
    const header = this.columns.map(printable);
    return [header, ...this.rows].map((cells) => this.formatRow(cells)).join('');
  }

  private formatRow(cells: readonly string[]): string {
    const last = cells.length - 1;
    const padded = cells.map((cell, index) => {
      return index === last ? cell : cell.padEnd(this.widths[index]);
    });
    return padded.join(COLUMN_GAP) + '\n';
  }
}

function cellText(column: string, value: unknown): string {
  if (typeof value !== 'string') return '';
  if (column === KIND_FIELD) return printable(kindName(value));
  return printable(value);
}

/** The kind's name for a number in the table; anything else is shown as it is. */
function kindName(value: string): string {
  if (!/^(0|[1-9][0-9]*)$/.test(value)) return value;
  return KIND_NAMES[Number(value)] ?? value;
}

/** Control characters written as `\xNN`, the way the sensor writes them in CommandArg1. */
function printable(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (char) => {
    return '\\x' + char.charCodeAt(0).toString(16).padStart(2, '0');
  });
}
