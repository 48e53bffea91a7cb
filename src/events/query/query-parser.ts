import type { ComparisonNode, QueryNode } from './query-node.js';
import { QueryError } from './query-error.js';
import type { QueryToken, QueryTokenKind } from './query-tokenizer.js';
import { tokenizeQuery } from './query-tokenizer.js';

/**
 * Parses a hunting expression. Precedence, loosest first, as in the event search the seed
 * queries come from: terms side by side (or joined by `AND`) are all required; `OR` binds
 * tighter, so `a b OR c` is `a AND (b OR c)`; `NOT` applies to the one term or parenthesised
 * group after it. Throws QueryError pointing at the first character that does not fit.
 *
 *   query      := all-of end
 *   all-of     := any-of ( ["AND"] any-of )*
 *   any-of     := unary ( "OR" unary )*
 *   unary      := "NOT" unary | "(" all-of ")" | comparison
 *   comparison := field ("=" | "!=") value      (no spaces inside a comparison)
 */
export function parseQuery(expression: string): QueryNode {
  return new QueryParser(expression).parse();
}

/** Field names written in lower case that were most likely meant as operators. */
const LOWER_CASE_OPERATORS: ReadonlySet<string> = new Set(['and', 'or', 'not']);

/** Tokens that need a term after them. */
const OPERATOR_KINDS: ReadonlySet<QueryTokenKind> = new Set(['and', 'or', 'not', 'open']);

class QueryParser {
  private readonly tokens: QueryToken[];
  private index = 0;

  constructor(private readonly expression: string) {
    this.tokens = tokenizeQuery(expression);
  }

  parse(): QueryNode {
    const node = this.parseAllOf();
    const token = this.peek();
    if (token.kind === 'close') this.fail("unexpected ')' without a matching '('", token.start);
    return node;
  }

  private parseAllOf(): QueryNode {
    const children = [this.parseAnyOf()];
    while (this.peek().kind !== 'end' && this.peek().kind !== 'close') {
      if (this.peek().kind === 'and') this.index++;
      children.push(this.parseAnyOf());
    }

    return children.length === 1 ? children[0] : { kind: 'all_of', children };
  }

  private parseAnyOf(): QueryNode {
    const children = [this.parseUnary()];
    while (this.peek().kind === 'or') {
      this.index++;
      children.push(this.parseUnary());
    }

    return children.length === 1 ? children[0] : { kind: 'any_of', children };
  }

  private parseUnary(): QueryNode {
    const token = this.peek();
    if (token.kind === 'not') {
      this.index++;
      return { kind: 'not', child: this.parseUnary() };
    }

    if (token.kind === 'open') return this.parseGroup(token);
    if (token.kind === 'field') return this.parseComparison(token);
    return this.fail(this.describeMissingTerm(token), token.start);
  }

  private parseGroup(open: QueryToken): QueryNode {
    this.index++;
    const inner = this.parseAllOf();
    if (this.peek().kind !== 'close') this.fail("unclosed '('", open.start);
    this.index++;
    return inner;
  }

  private parseComparison(field: QueryToken): ComparisonNode {
    this.index++;
    const operator = this.peek();
    const isOperator = operator.kind === 'equals' || operator.kind === 'not_equals';
    if (!isOperator) this.failMissingOperator(field);
    if (operator.start !== field.end) {
      this.fail(`no space is allowed between the field name and '${operator.text}'`, field.end);
    }

    this.index++;
    const value = this.peek();
    if (value.kind !== 'value' || value.start !== operator.end) {
      this.fail(this.describeMissingValue(operator, value), operator.end);
    }

    this.index++;
    const negated = operator.kind === 'not_equals';
    return { kind: 'comparison', field: field.text, negated, value: value.text };
  }

  private describeMissingTerm(token: QueryToken): string {
    const previous = this.tokens[this.index - 1];
    const afterOperator = previous !== undefined && OPERATOR_KINDS.has(previous.kind);
    if (token.kind === 'value') return 'expected a field name (field names are not quoted)';
    if (token.kind === 'equals' || token.kind === 'not_equals') {
      return `expected a field name before '${token.text}'`;
    }

    if (afterOperator) return `expected a term after '${previous.text}'`;
    if (token.kind === 'end') return 'expected a field=value term';
    return `expected a term before '${token.text}'`;
  }

  private failMissingOperator(field: QueryToken): never {
    if (LOWER_CASE_OPERATORS.has(field.text)) {
      const upper = field.text.toUpperCase();
      this.fail(`'${field.text}' in lower case is not an operator (write ${upper})`, field.start);
    }

    this.fail(`expected '=' or '!=' after the field name '${field.text}'`, field.end);
  }

  private describeMissingValue(operator: QueryToken, next: QueryToken): string {
    const spaced = next.kind !== 'end' && next.kind !== 'close' && next.start > operator.end;
    return spaced
      ? `no space is allowed between '${operator.text}' and its value`
      : `expected a value after '${operator.text}'`;
  }

  private peek(): QueryToken {
    return this.tokens[this.index];
  }

  private fail(reason: string, position: number): never {
    throw new QueryError(reason, this.expression, position);
  }
}
