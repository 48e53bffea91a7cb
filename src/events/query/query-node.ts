/** The parsed form of a hunting expression. */
export type QueryNode = AllOfNode | AnyOfNode | NotNode | ComparisonNode;

/** Terms joined by spaces or `AND`: every child must match. */
export interface AllOfNode {
  readonly kind: 'all_of';
  readonly children: readonly QueryNode[];
}

/** Terms joined by `OR`: at least one child must match. */
export interface AnyOfNode {
  readonly kind: 'any_of';
  readonly children: readonly QueryNode[];
}

export interface NotNode {
  readonly kind: 'not';
  readonly child: QueryNode;
}

/** `field=value` or, with `negated`, `field!=value`; `value` is unescaped and not lower-cased. */
export interface ComparisonNode {
  readonly kind: 'comparison';
  readonly field: string;
  readonly negated: boolean;
  readonly value: string;
}
