import type { AddressReader } from './address-reader.js';
import { AddressRange } from './address-range.js';
import { KIND_FIELD, KIND_NAMES } from './kind-names.js';
import { compileWildcard } from './wildcard-pattern.js';

/** Decides one comparison for a field that is present; `!=` is already folded in. */
export type ValueTest = (text: string) => boolean;

/**
 * Compiles the right-hand side of `field=value` (or `field!=value` when `negated`).
 *
 * A value that is wholly a CIDR range compares addresses: the field must hold an address, so a
 * value that is not one fails both `=` and `!=`. Any other value compares text, ignoring case,
 * with `*` as a wildcard. For SmtpCommandKind a text value also matches the numbers of the kinds
 * whose names it matches, so `MAIL`, `mail` and `4` are the same test.
 */
export function compileValueTest(
  field: string, value: string, negated: boolean, addresses: AddressReader,
): ValueTest {
  const range = AddressRange.parse(value);
  if (range !== undefined) return compileRangeTest(range, negated, addresses);
  const matches = compileTextTest(field, value);
  return negated ? (text) => !matches(text) : matches;
}

function compileRangeTest(
  range: AddressRange, negated: boolean, addresses: AddressReader,
): ValueTest {
  return (text) => {
    const address = addresses.read(text);
    return address !== undefined && range.contains(address) !== negated;
  };
}

function compileTextTest(field: string, value: string): ValueTest {
  const lowerMatches = compileWildcard(value.toLowerCase());
  const matches: ValueTest = (text) => lowerMatches(text.toLowerCase());
  if (field !== KIND_FIELD) return matches;

  const kindNumbers = new Set<string>();
  KIND_NAMES.forEach((name, kind) => {
    if (lowerMatches(name.toLowerCase())) kindNumbers.add(String(kind));
  });
  return kindNumbers.size === 0 ? matches : (text) => kindNumbers.has(text) || matches(text);
}
