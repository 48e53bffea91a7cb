import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { EventRecord } from '../../src/events/query/event-predicate.js';
import { KIND_NAMES } from '../../src/events/query/kind-names.js';
import { compileQuery } from '../../src/events/query/query-compiler.js';
import { usePropertySeed } from '../helpers/property-seed.js';

usePropertySeed();

/** An expression tree, generated at random and written out as text for the compiler. */
type Expression =
  | { kind: 'comparison'; field: string; negated: boolean; value: string; quoted: boolean }
  | { kind: 'not'; child: Expression }
  | { kind: 'all_of'; left: Expression; right: Expression; keyword: boolean }
  | { kind: 'any_of'; left: Expression; right: Expression };

/**
 * Which addresses each range holds, worked out by hand, so the model below needs no address
 * code of its own. '', 'not-an-ip' and a missing field are in no range and fail != as well.
 */
const RANGE_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  '10.0.0.0/8': ['10.1.2.3', '::ffff:10.9.9.9'],
  '10.1.2.3/32': ['10.1.2.3'],
  '0.0.0.0/0': ['10.1.2.3', '192.168.1.1', '::ffff:10.9.9.9'],
  '::/0': ['10.1.2.3', '192.168.1.1', '::ffff:10.9.9.9', 'fd00::1', '2001:db8::1'],
  'fd00::/8': ['fd00::1'],
  '::ffff:10.0.0.0/104': ['10.1.2.3', '::ffff:10.9.9.9'],
  '2001:db8::/32': ['2001:db8::1'],
};
const ADDRESSES = ['10.1.2.3', '192.168.1.1', '::ffff:10.9.9.9', 'fd00::1', '2001:db8::1'];
const KIND_VALUES = ['MAIL', 'mail', '4', '7', 'DATA', '*TLS', '1*', 'UNKNOWN', '99', '*'];

function text(letters: string[], maxLength: number): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...letters), { maxLength }).map((chars) => chars.join(''));
}

const comparison: fc.Arbitrary<Expression> = fc.record({
  kind: fc.constant('comparison' as const),
  negated: fc.boolean(),
  quoted: fc.boolean(),
  fieldAndValue: fc.oneof(
    // f exercises quoting and escapes; g's few letters make wildcards overlap often.
    fc.tuple(fc.constant('f'), text(['a', 'B', '*', ' ', '"', '\\'], 4)),
    fc.tuple(fc.constant('g'), text(['a', 'b', '*'], 5)),
    fc.tuple(fc.constant('ip'), fc.constantFrom(...Object.keys(RANGE_MEMBERS), '10.1.2.3')),
    fc.tuple(fc.constant('SmtpCommandKind'), fc.constantFrom(...KIND_VALUES)),
  ),
}).map(({ fieldAndValue: [field, value], ...rest }) => ({ ...rest, field, value }));

const expressionTree = fc.memo((depth): fc.Arbitrary<Expression> => {
  if (depth <= 1) return comparison;
  const child = expressionTree(depth - 1);
  return fc.oneof(
    { depthSize: 'small' },
    comparison,
    fc.record({ kind: fc.constant('not' as const), child }),
    fc.record({
      kind: fc.constant('all_of' as const), left: child, right: child, keyword: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('any_of' as const), left: child, right: child }),
  );
});

const expression = expressionTree(4);

const event: fc.Arbitrary<EventRecord> = fc.record({
  f: text(['a', 'A', 'b', 'B', '*', ' ', '"', '\\'], 4),
  g: text(['a', 'b', 'B'], 4),
  ip: fc.constantFrom(...ADDRESSES, '', 'not-an-ip'),
  SmtpCommandKind: fc.constantFrom('0', '4', '7', '14', '99'),
}, { requiredKeys: [] });

const events = fc.array(event, { minLength: 1, maxLength: 12 });

/** How tightly each node binds when written without parentheses; higher binds tighter. */
const BINDING: Readonly<Record<Expression['kind'], number>> = {
  all_of: 1, any_of: 2, not: 3, comparison: 4,
};

/** The expression with only the parentheses that precedence requires. */
function write(node: Expression): string {
  const operand = (child: Expression) => {
    return BINDING[child.kind] < BINDING[node.kind] ? `(${write(child)})` : write(child);
  };
  switch (node.kind) {
    case 'comparison':
      return `${node.field}${node.negated ? '!=' : '='}${writeValue(node.value, node.quoted)}`;
    case 'not':
      return `NOT ${operand(node.child)}`;
    case 'all_of':
      return `${operand(node.left)} ${node.keyword ? 'AND ' : ''}${operand(node.right)}`;
    case 'any_of':
      return `${operand(node.left)} OR ${operand(node.right)}`;
  }
}

function writeValue(value: string, quoted: boolean): string {
  if (!quoted && /^[A-Za-z0-9*.:/]+$/.test(value)) return value;
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/** The meaning of the language, evaluated straight from the tree. */
function evaluate(node: Expression, record: EventRecord): boolean {
  switch (node.kind) {
    case 'not':
      return !evaluate(node.child, record);
    case 'all_of':
      return evaluate(node.left, record) && evaluate(node.right, record);
    case 'any_of':
      return evaluate(node.left, record) || evaluate(node.right, record);
    case 'comparison': {
      const value = record[node.field];
      if (value === undefined) return false;
      const members = RANGE_MEMBERS[node.value];
      if (members !== undefined && !ADDRESSES.includes(value)) return false;
      const matches = members !== undefined ? members.includes(value) : textMatches(node, value);
      return matches !== node.negated;
    }
  }
}

function textMatches(node: { field: string; value: string }, value: string): boolean {
  const source = node.value.split('*').map((piece) => piece.replace(/[^\w]/g, '\\$&'));
  const pattern = new RegExp(`^${source.join('[\\s\\S]*')}$`, 'i');
  const name = node.field === 'SmtpCommandKind' ? KIND_NAMES[Number(value)] : undefined;
  return pattern.test(value) || (name !== undefined && pattern.test(name));
}

function matchesOf(source: string, records: readonly EventRecord[]): boolean[] {
  const matches = compileQuery(source);
  return records.map((record) => matches(record));
}

describe('properties of random expressions over random events', () => {
  it('NOT (a) matches exactly the events a does not', () => {
    fc.assert(fc.property(expression, events, (a, records) => {
      const plain = matchesOf(write(a), records);
      assert.deepEqual(matchesOf(`NOT (${write(a)})`, records), plain.map((match) => !match));
    }), { numRuns: 300 });
  });

  it('a OR b matches the union of what a and b match', () => {
    fc.assert(fc.property(expression, expression, events, (a, b, records) => {
      const left = matchesOf(write(a), records);
      const right = matchesOf(write(b), records);
      const union = left.map((match, index) => match || right[index]);
      assert.deepEqual(matchesOf(`(${write(a)}) OR (${write(b)})`, records), union);
    }), { numRuns: 300 });
  });

  it('a b matches the intersection of what a and b match', () => {
    fc.assert(fc.property(expression, expression, events, (a, b, records) => {
      const left = matchesOf(write(a), records);
      const right = matchesOf(write(b), records);
      const both = left.map((match, index) => match && right[index]);
      assert.deepEqual(matchesOf(`(${write(a)}) (${write(b)})`, records), both);
    }), { numRuns: 300 });
  });

  it('written with the fewest parentheses, an expression means what its tree means', () => {
    fc.assert(fc.property(expression, events, (tree, records) => {
      const expected = records.map((record) => evaluate(tree, record));
      assert.deepEqual(matchesOf(write(tree), records), expected, write(tree));
    }), { numRuns: 1000 });
  });
});
