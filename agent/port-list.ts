import { UsageError } from './usage-error.js';

export const DEFAULT_PORTS: readonly number[] = [25, 465, 587];

/** Parses `25,465,587`; anything else is a usage error naming the bad part. */
export function parsePortList(text: string): number[] {
  const ports = text.split(',').map((part) => part.trim());
  return ports.map((part) => {
    const port = Number(part);
    if (!/^\d+$/.test(part) || port < 1 || port > 65535) {
      throw new UsageError(`--ports: '${part}' is not a port number (1-65535)`);
    }
    return port;
  });
}
