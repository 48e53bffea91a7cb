const NUL = 0;
const SPACE = 0x20;

/**
 * argv as an event reports it, from the bytes of /proc/PID/cmdline (or a kernel connect record,
 * which holds the same bytes): arguments are stored NUL-terminated, one after the other; a
 * process that rewrites its title may leave several NULs at the end. Those are dropped and the
 * others become single spaces, so an empty argument shows as two spaces. Bytes that are not
 * UTF-8 decode as U+FFFD. Overwrites the NULs of `bytes` up to `length`.
 */
export function commandLineText(bytes: Buffer, length: number): string {
  let end = length;
  while (end > 0 && bytes[end - 1] === NUL) end--;
  for (let index = 0; index < end; index++) if (bytes[index] === NUL) bytes[index] = SPACE;
  return bytes.toString('utf8', 0, end);
}

/**
 * `length` less the bytes of a UTF-8 character the cut left incomplete at the end, so that a
 * cut command line does not end in U+FFFD (RFC 3629 section 3: a lead byte says how many
 * continuation bytes, 10xxxxxx, follow).
 */
export function wholeCharactersLength(bytes: Buffer, length: number): number {
  for (let back = 1; back <= 4 && back <= length; back++) {
    const byte = bytes[length - back];
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? length - back : length;
  }
  return length;
}
