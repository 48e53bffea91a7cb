import { QueryError } from './query-error.js';

export type QueryTokenKind =
  | 'field' | 'value' | 'equals' | 'not_equals' | 'open' | 'close' | 'and' | 'or' | 'not' | 'end';

/**
 * One lexical unit of an expression. `text` is the unescaped value for `value` tokens and the
 * source text otherwise; `start` and `end` index the expression, end exclusive.
 */
export interface QueryToken {
  readonly kind: QueryTokenKind;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const KEYWORDS: ReadonlyMap<string, QueryTokenKind> = new Map([
  ['AND', 'and'], ['OR', 'or'], ['NOT', 'not'],
]);

const PUNCTUATION: ReadonlyMap<string, QueryTokenKind> = new Map([
  ['(', 'open'], [')', 'close'], ['=', 'equals'],
]);

const WHITESPACE = /[ \t\n\r\v\f]/;

/** A field name ends at any of these; `!` only when `=` follows it. */
const FIELD_END = /[ \t\n\r\v\f()"=]/;

/** A bare value ends only at these, so `--from=a@b` and `a!b` need no quotes. */
const BARE_VALUE_END = /[ \t\n\r\v\f()"]/;

/**
 * Splits an expression into tokens, ending with one `end` token. The text right after `=` or
 * `!=` is read as a value (bare or quoted); anywhere else a quoted string is also a `value`
 * token, and the parser decides whether it is in its place. Throws QueryError for an unclosed
 * quote and for a value run straight into the next term.
 */
export function tokenizeQuery(expression: string): QueryToken[] {
  const tokens: QueryToken[] = [];
  let position = 0;
  while (true) {
    while (position < expression.length && WHITESPACE.test(expression[position])) position++;
    if (position >= expression.length) break;
    const token = readToken(expression, position, tokens[tokens.length - 1]);
    tokens.push(token);
    position = token.end;
  }

  tokens.push({ kind: 'end', text: '', start: expression.length, end: expression.length });
  return tokens;
}

function readToken(expression: string, start: number, previous?: QueryToken): QueryToken {
  const char = expression[start];
  const punctuation = PUNCTUATION.get(char);
  if (punctuation !== undefined) return { kind: punctuation, text: char, start, end: start + 1 };
  if (char === '!' && expression[start + 1] === '=') {
    return { kind: 'not_equals', text: '!=', start, end: start + 2 };
  }

  const afterOperator = previous !== undefined && previous.end === start &&
    (previous.kind === 'equals' || previous.kind === 'not_equals');
  const quoted = char === '"';
  if (!afterOperator) return quoted ? readQuoted(expression, start) : readWord(expression, start);
  const value = quoted ? readQuoted(expression, start) : readBareValue(expression, start);
  return checkValueEnd(expression, value);
}

function readWord(expression: string, start: number): QueryToken {
  let end = start + 1;
  while (end < expression.length && !isFieldEnd(expression, end)) end++;
  const text = expression.slice(start, end);
  return { kind: KEYWORDS.get(text) ?? 'field', text, start, end };
}

function isFieldEnd(expression: string, index: number): boolean {
  const char = expression[index];
  return FIELD_END.test(char) || (char === '!' && expression[index + 1] === '=');
}

function readBareValue(expression: string, start: number): QueryToken {
  let end = start + 1;
  while (end < expression.length && !BARE_VALUE_END.test(expression[end])) end++;
  return { kind: 'value', text: expression.slice(start, end), start, end };
}

/**
 * A double-quoted value. `\"` and `\\` are the only escapes; a backslash before anything else
 * stays as typed, so values written by the sensor such as `\x00` can be searched as they read.
 */
function readQuoted(expression: string, start: number): QueryToken {
  let text = '';
  let index = start + 1;
  while (index < expression.length) {
    const char = expression[index];
    if (char === '"') return { kind: 'value', text, start, end: index + 1 };
    const next = expression[index + 1];
    const escaped = char === '\\' && (next === '"' || next === '\\');
    text += escaped ? next : char;
    index += escaped ? 2 : 1;
  }

  throw new QueryError('unclosed quoted value', expression, start);
}

function checkValueEnd(expression: string, token: QueryToken): QueryToken {
  const next = expression[token.end];
  if (next === undefined || next === ')' || WHITESPACE.test(next)) return token;
  throw new QueryError("expected a space or ')' after the value", expression, token.end);
}
