import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileQuery } from '../../src/events/query/query-compiler.js';
import { QueryError } from '../../src/events/query/query-error.js';

/** Each bad expression, the 0-based position the error points at, and its reason. */
const BAD_EXPRESSIONS: readonly [string, number, string][] = [
  ['event_simpleName=', 17, "expected a value after '='"],
  ['a!=', 3, "expected a value after '!='"],
  ['a= b', 2, "no space is allowed between '=' and its value"],
  ['a= "b"', 2, "no space is allowed between '=' and its value"],
  ['(a=)', 3, "expected a value after '='"],
  ['a==b', 2, "expected a value after '='"],
  ['a =b', 1, "no space is allowed between the field name and '='"],
  ['a = b', 1, "no space is allowed between the field name and '='"],
  ['a !=b', 1, "no space is allowed between the field name and '!='"],
  ['(a=b', 0, "unclosed '('"],
  ['(a=b OR (c=d)', 0, "unclosed '('"],
  ['a=b (c=d OR (e=f)', 4, "unclosed '('"],
  ['a=b)', 3, "unexpected ')' without a matching '('"],
  ['(a=b))', 5, "unexpected ')' without a matching '('"],
  ['a="b', 2, 'unclosed quoted value'],
  ['a="b\\"', 2, 'unclosed quoted value'],
  ['a=b c="d', 6, 'unclosed quoted value'],
  ['OR a=b', 0, "expected a term before 'OR'"],
  ['AND a=b', 0, "expected a term before 'AND'"],
  ['a=b OR', 6, "expected a term after 'OR'"],
  ['a=b AND', 7, "expected a term after 'AND'"],
  ['a=b AND OR c=d', 8, "expected a term after 'AND'"],
  ['a=b OR OR c=d', 7, "expected a term after 'OR'"],
  ['NOT', 3, "expected a term after 'NOT'"],
  ['a=b NOT', 7, "expected a term after 'NOT'"],
  ['()', 1, "expected a term after '('"],
  ['a=b ()', 5, "expected a term after '('"],
  ['', 0, 'expected a field=value term'],
  ['   ', 3, 'expected a field=value term'],
  ['a=b or c=d', 4, "'or' in lower case is not an operator (write OR)"],
  ['not a=b', 0, "'not' in lower case is not an operator (write NOT)"],
  ['foo', 3, "expected '=' or '!=' after the field name 'foo'"],
  ['a=b suspicious', 14, "expected '=' or '!=' after the field name 'suspicious'"],
  ['// Find all SMTP commands', 2, "expected '=' or '!=' after the field name '//'"],
  ['"x"=y', 0, 'expected a field name (field names are not quoted)'],
  ['=x', 0, "expected a field name before '='"],
  ['a=b =c', 4, "expected a field name before '='"],
  ['a=b !=c', 4, "expected a field name before '!='"],
  ['a=b"c"', 3, "expected a space or ')' after the value"],
  ['a="b"c', 5, "expected a space or ')' after the value"],
  ['a="b"(c=d)', 5, "expected a space or ')' after the value"],
];

describe('a bad expression is a QueryError that points at the problem', () => {
  for (const [expression, position, reason] of BAD_EXPRESSIONS) {
    it(`${JSON.stringify(expression)}: ${reason} at ${position}`, () => {
      const error = catchQueryError(expression);
      assert.equal(error.code, 'query_syntax');
      assert.equal(error.position, position);
      assert.equal(error.message.split('\n')[0], `${reason} at position ${position}`);
    });
  }
});

describe('the error message is ready for a terminal', () => {
  it('echoes the expression and puts a caret under the position', () => {
    const error = catchQueryError('event_simpleName=SmtpCommand RemotePort=');
    assert.equal(error.message, [
      "expected a value after '=' at position 40",
      '  event_simpleName=SmtpCommand RemotePort=',
      '                                          ^',
    ].join('\n'));
  });

  it('shows tabs and line breaks as spaces so the caret stays under its character', () => {
    const error = catchQueryError('a=b\tOR\n');
    assert.deepEqual(error.message.split('\n').slice(1), ['  a=b OR ', '         ^']);
  });

  it('is named QueryError and is an Error', () => {
    const error = catchQueryError('(');
    assert.equal(error.name, 'QueryError');
    assert.ok(error instanceof Error);
  });
});

function catchQueryError(expression: string): QueryError {
  try {
    compileQuery(expression);
  } catch (error) {
    if (error instanceof QueryError) return error;
    throw error;
  }
  assert.fail(`${JSON.stringify(expression)} compiled`);
}
