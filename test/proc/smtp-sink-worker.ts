import { createServer, type Socket } from 'node:net';
import { parentPort } from 'node:worker_threads';

/**
 * An SMTP server that accepts every message and discards it, run in a worker thread so that it
 * answers clients while the test's main thread is busy resolving, as a real server is another
 * process than the sensor. It listens on 127.0.0.1 and posts to its parent:
 *   { type: 'listening', port }
 *   { type: 'connection', clientPort, acceptedAt }  (acceptedAt: process.hrtime.bigint())
 */
export interface SinkListening {
  type: 'listening';
  port: number;
}

export interface SinkConnection {
  type: 'connection';
  clientPort: number;
  acceptedAt: bigint;
}

/** A client that sends more than this without a line end is cut off. */
const MAX_BUFFERED_BYTES = 64 * 1024;
const END_OF_DATA = '\r\n.\r\n';

/** Replies to each command (RFC 5321 section 4.1.1), by verb; others get 250. */
const REPLIES: Record<string, string> = {
  EHLO: '250-sink.test\r\n250 8BITMIME\r\n',
  HELO: '250 sink.test\r\n',
  DATA: '354 end with <CRLF>.<CRLF>\r\n',
  QUIT: '221 bye\r\n',
};

function serve(socket: Socket): void {
  let buffered = '';
  let inData = false;
  socket.setNoDelay(true);
  socket.on('error', () => {});
  socket.write('220 sink.test ESMTP\r\n');
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    if (buffered.length > MAX_BUFFERED_BYTES) socket.destroy();
    for (;;) {
      const end = buffered.indexOf(inData ? END_OF_DATA : '\r\n');
      if (end === -1) return;
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + (inData ? END_OF_DATA.length : 2));
      if (inData) {
        inData = false;
        socket.write('250 queued\r\n');
        continue;
      }
      const verb = line.slice(0, 4).toUpperCase();
      inData = verb === 'DATA';
      if (verb === 'QUIT') socket.end(REPLIES.QUIT);
      else socket.write(REPLIES[verb] ?? '250 ok\r\n');
    }
  });
}

const server = createServer((socket) => {
  const message: SinkConnection = { type: 'connection', clientPort: socket.remotePort!,
    acceptedAt: process.hrtime.bigint() };
  parentPort!.postMessage(message);
  serve(socket);
});
server.listen(0, '127.0.0.1', () => {
  const message: SinkListening = { type: 'listening',
    port: (server.address() as { port: number }).port };
  parentPort!.postMessage(message);
});
