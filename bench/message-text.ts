/** Distinct message bodies the sessions cycle through; their sizes spread over the range. */
const BODY_VARIANTS = 16;
const SMALLEST_BODY_BYTES = 3000;
const LARGEST_BODY_BYTES = 7000;
const WORDS = ['invoice', 'meeting', 'quarterly', 'report', 'deployment', 'attached', 'please',
  'review', 'schedule', 'customer', 'network', 'update', 'release', 'notes', 'thanks', 'regards'];

/**
 * Message text (RFC 5322 header and body) for session `index`, with CRLF line ends, lines under
 * 78 characters and none starting with "." (so no dot-stuffing is needed, RFC 5321 section
 * 4.5.2). Bodies are built once per variant; only the header differs per session.
 */
export class MessageText {
  private readonly bodies: Buffer[] = [];

  constructor() {
    for (let variant = 0; variant < BODY_VARIANTS; variant++) {
      const size = SMALLEST_BODY_BYTES
        + Math.floor((LARGEST_BODY_BYTES - SMALLEST_BODY_BYTES) * variant / (BODY_VARIANTS - 1));
      this.bodies.push(Buffer.from(bodyText(variant, size)));
    }
  }

  forSession(index: number): Buffer {
    const header = `From: Sender ${index} <sender${index}@example.org>\r\n`
      + `To: Alice <alice${index}@example.net>, Bob <bob${index}@example.net>\r\n`
      + `Subject: ${WORDS[index % WORDS.length]} ${index}\r\n`
      + `Message-ID: <${index}.${index * 31}@client-${index}.example.org>\r\n`
      + 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
    return Buffer.concat([Buffer.from(header), this.bodies[index % BODY_VARIANTS]]);
  }
}

function bodyText(variant: number, size: number): string {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const words = Array.from({ length: 9 },
      (_, j) => WORDS[(i * 7 + j * 3 + variant) % WORDS.length]);
    const line = `${words.join(' ')} ${i}\r\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join('');
}
