import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { ConnectRecords } from '../src/proc/connect-records.js';
import { TcpTuple } from '../src/proc/tcp-tuple.js';

/**
 * What one lookup in the kernel connect records costs the sensor: ConnectRecords.find() of a
 * recorded connection (one bpf() call copying its 5 KiB record, then the decoding) and of one
 * never recorded, LOOKUPS times each. Needs root.
 * `npx tsc -p . && node dist/bench/connect-records-bench.js [LOOKUPS]`.
 */
const LOOKUPS = Number(process.argv[2] ?? 20_000);

const server = createServer((socket) => socket.end()).listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as { port: number }).port;
const records = ConnectRecords.open([port]);
try {
  const script = `import socket; s=socket.create_connection(("127.0.0.1", ${port})); `
    + 'print(s.getsockname()[1])';
  const localPort = Number(execFileSync('/usr/bin/python3', ['-c', script]).toString());
  const cases = [
    ['recorded connection', TcpTuple.parse('127.0.0.1', localPort, '127.0.0.1', port)!],
    ['no record', TcpTuple.parse('127.0.0.1', 1, '127.0.0.1', port)!],
  ] as const;
  for (const [name, tuple] of cases) {
    const started = process.hrtime.bigint();
    for (let lookup = 0; lookup < LOOKUPS; lookup++) records.find(tuple);
    const microseconds = Number(process.hrtime.bigint() - started) / LOOKUPS / 1000;
    console.log(`${name.padEnd(20)} ${microseconds.toFixed(2)} µs per find (${LOOKUPS} finds)`);
  }
} finally {
  records.close();
  server.close();
}
