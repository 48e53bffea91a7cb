/**
 * JSON text written as UTF-8 straight into a buffer, by offset: the pieces of an event line,
 * without the strings, concatenations and Buffer.write calls that cost more than the writing
 * (bench/replay-bench.ts). Each function writes at `at` and returns where it ends; the caller
 * makes sure the buffer has room.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DIGIT_ZERO = 0x30;
const FIRST_PRINTABLE = 0x20;
const FIRST_SURROGATE = 0xd800;
const LAST_SURROGATE = 0xdfff;

/**
 * JSON.stringify(text): the text in quotes as it is when it has nothing JSON escapes (quote,
 * backslash, control characters; surrogates, which JSON.stringify escapes when lone, are left
 * to it). Most field text has nothing to escape, and each JSON.stringify call costs more than
 * looking at the characters (bench/replay-bench.ts: the 1.7 million calls of a replay were a
 * twelfth of its time).
 */
export function jsonString(text: string): string {
  return needsEscape(text) ? JSON.stringify(text) : `"${text}"`;
}

/** Writes jsonString(text). */
export function putJsonString(target: Buffer, at: number, text: string): number {
  if (!needsEscape(text)) {
    target[at] = QUOTE;
    const end = putText(target, at + 1, text);
    target[end] = QUOTE;
    return end + 1;
  }
  return at + target.write(JSON.stringify(text), at);
}

/**
 * Writes `text` with no escaping. A surrogate (an emoji's half, or a lone one) hands the rest
 * to Buffer.write, which encodes both kinds as TextEncoder does.
 */
export function putText(target: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      target[at++] = code;
    } else if (code < 0x800) {
      target[at++] = 0xc0 | (code >> 6);
      target[at++] = 0x80 | (code & 0x3f);
    } else if (code < FIRST_SURROGATE || code > LAST_SURROGATE) {
      target[at++] = 0xe0 | (code >> 12);
      target[at++] = 0x80 | ((code >> 6) & 0x3f);
      target[at++] = 0x80 | (code & 0x3f);
    } else {
      return at + target.write(text.slice(i), at);
    }
  }
  return at;
}

/** Writes a number as String(n) does: digits for a non-negative safe integer, else its text. */
export function putNumber(target: Buffer, at: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return putText(target, at, String(n));
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = n;
  for (let i = digits - 1; i >= 0; i--) {
    target[at + i] = DIGIT_ZERO + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + digits;
}

/** Writes 0 to 999 as three digits, zeros first. */
export function putThreeDigits(target: Buffer, at: number, n: number): number {
  target[at] = DIGIT_ZERO + Math.floor(n / 100);
  target[at + 1] = DIGIT_ZERO + (Math.floor(n / 10) % 10);
  target[at + 2] = DIGIT_ZERO + (n % 10);
  return at + 3;
}

/** Copies bytes made beforehand (field names): TypedArray.set, faster than a loop for them. */
export function putBytes(target: Buffer, at: number, bytes: Uint8Array): number {
  target.set(bytes, at);
  return at + bytes.length;
}

/** Whether JSON.stringify would write `text` other than as it is between quotes. */
function needsEscape(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < FIRST_PRINTABLE || code === QUOTE || code === BACKSLASH
      || (code >= FIRST_SURROGATE && code <= LAST_SURROGATE)) {
      return true;
    }
  }
  return false;
}
