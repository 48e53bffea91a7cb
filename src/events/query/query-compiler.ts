import { AddressReader } from './address-reader.js';
import type { EventPredicate, EventRecord } from './event-predicate.js';
import type { ComparisonNode, QueryNode } from './query-node.js';
import { parseQuery } from './query-parser.js';
import { compileValueTest } from './value-test.js';

/**
 * Compiles a hunting expression (docs/query-language.md) into a predicate over events. All the
 * work that does not depend on the event (lower-casing literals, choosing how each wildcard is
 * tested, parsing ranges, mapping kind names to numbers) is done here, once. Throws QueryError
 * when the expression does not parse.
 */
export function compileQuery(expression: string): EventPredicate {
  return compileNode(parseQuery(expression), new AddressReader());
}

function compileNode(node: QueryNode, addresses: AddressReader): EventPredicate {
  switch (node.kind) {
    case 'all_of':
      return allOf(node.children.map((child) => compileNode(child, addresses)));
    case 'any_of':
      return anyOf(node.children.map((child) => compileNode(child, addresses)));
    case 'not': {
      const child = compileNode(node.child, addresses);
      return (event) => !child(event);
    }
    case 'comparison':
      return compileComparison(node, addresses);
  }
}

function allOf(children: readonly EventPredicate[]): EventPredicate {
  return (event) => {
    for (let index = 0; index < children.length; index++) {
      if (!children[index](event)) return false;
    }
    return true;
  };
}

function anyOf(children: readonly EventPredicate[]): EventPredicate {
  return (event) => {
    for (let index = 0; index < children.length; index++) {
      if (children[index](event)) return true;
    }
    return false;
  };
}

/**
 * A comparison never matches an event that lacks its field, whichever the operator; that is
 * what lets `f!=v` and `NOT f=v` differ. A value that is not a string (the event contract says
 * every value is one) counts as missing, so an odd line cannot make matching throw.
 */
function compileComparison(node: ComparisonNode, addresses: AddressReader): EventPredicate {
  const { field } = node;
  const test = compileValueTest(field, node.value, node.negated, addresses);
  return (event: EventRecord) => {
    const text: unknown = event[field];
    return typeof text === 'string' && test(text);
  };
}
