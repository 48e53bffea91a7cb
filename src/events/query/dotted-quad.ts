/**
 * The IPv4 address `text` spells as four dotted decimals (each 0-255, no leading zeros, the
 * form the sensor writes), as an unsigned 32-bit number; -1 when it is anything else.
 *
 * Measured on 500,000 events: ipaddr.js took about 1.1 µs to validate and parse an address,
 * more than the rest of the seed's third query; this loop takes a few tens of nanoseconds.
 */
export function parseDottedQuad(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === DOT) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else {
      const leadingZero = digits === 1 && part === 0;
      if (code < DIGIT_ZERO || code > DIGIT_NINE || leadingZero) return -1;
      part = part * 10 + code - DIGIT_ZERO;
      digits++;
      if (part > 255) return -1;
    }
  }

  return digits === 0 || dots !== 3 ? -1 : value * 256 + part;
}

const DOT = 0x2e;
const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;
