/**
 * TCP sequence numbers are 32-bit and wrap (RFC 9293 section 3.4): compare them by the sign of
 * their 32-bit difference, never with < on the raw values.
 */
export function sequenceDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function sequenceAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
