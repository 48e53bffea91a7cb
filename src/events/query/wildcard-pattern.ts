/** Tests a lower-cased field value against one compiled pattern. */
export type TextTest = (lowerText: string) => boolean;

/**
 * Compiles a lower-cased value in which `*` stands for any run of characters (including none)
 * into the cheapest test that decides it: equality, a prefix, a suffix, a substring, or, for
 * three or more literal pieces, an ordered search. No RegExp is built, so no value can make
 * matching slow, and the common shapes cost one string comparison.
 */
export function compileWildcard(lowerPattern: string): TextTest {
  const pieces = lowerPattern.split('*');
  if (pieces.length === 1) return (text) => text === lowerPattern;

  const prefix = pieces[0];
  const suffix = pieces[pieces.length - 1];
  const middles = pieces.slice(1, -1).filter((piece) => piece.length > 0);
  if (middles.length === 0) return compileEnds(prefix, suffix);
  if (middles.length === 1 && prefix === '' && suffix === '') {
    const inner = middles[0];
    return (text) => text.includes(inner);
  }

  return (text) => matchesInOrder(text, prefix, middles, suffix);
}

function compileEnds(prefix: string, suffix: string): TextTest {
  if (prefix === '' && suffix === '') return () => true;
  if (suffix === '') return (text) => text.startsWith(prefix);
  if (prefix === '') return (text) => text.endsWith(suffix);
  const shortest = prefix.length + suffix.length;
  return (text) => text.length >= shortest && text.startsWith(prefix) && text.endsWith(suffix);
}

/**
 * Finds each middle piece after the previous one, leftmost first, between the prefix and the
 * suffix. Taking the leftmost occurrence never loses a match, because `*` is the only operator:
 * it leaves the most room for the pieces that follow.
 */
function matchesInOrder(
  text: string, prefix: string, middles: readonly string[], suffix: string,
): boolean {
  const limit = text.length - suffix.length;
  if (limit < prefix.length || !text.startsWith(prefix) || !text.endsWith(suffix)) return false;

  let from = prefix.length;
  for (const piece of middles) {
    const found = text.indexOf(piece, from);
    if (found < 0 || found + piece.length > limit) return false;
    from = found + piece.length;
  }

  return true;
}
