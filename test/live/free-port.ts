import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * A TCP port nobody listens on at `host` now: the kernel picks it for a listener that is
 * closed at once. Another program could take it before the caller does; on a test machine
 * that is rare enough, and the caller's listener then fails to start, loudly.
 */
export async function freePort(host: string): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}
