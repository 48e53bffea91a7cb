/** Why an expression was refused; `query_syntax` is the only code the language raises. */
export type QueryErrorCode = 'query_syntax';

/**
 * A hunting expression that cannot be compiled. `position` is the 0-based index of the character
 * where the problem is, and the message ends with the expression and a caret under that
 * character, ready to print on a terminal as is.
 */
export class QueryError extends Error {
  readonly code: QueryErrorCode = 'query_syntax';
  readonly position: number;

  constructor(reason: string, expression: string, position: number) {
    super(`${reason} at position ${position}\n${pointAt(expression, position)}`);
    this.name = 'QueryError';
    this.position = position;
  }
}

/**
 * Two lines: the expression, then a caret under `position`. Tabs and line breaks would move the
 * caret away from its character on a terminal, so the echoed expression shows them as spaces.
 */
function pointAt(expression: string, position: number): string {
  const flat = expression.replace(/[\t\n\r\v\f]/g, ' ');
  return `  ${flat}\n  ${' '.repeat(position)}^`;
}
