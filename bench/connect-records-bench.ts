import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { ConnectRecords } from '../src/proc/connect-records.js';
import { TcpTuple } from '../src/proc/tcp-tuple.js';
import { SynWatcher } from '../test/helpers/syn-watcher.js';

/**
 * What one lookup in the kernel connect records costs the sensor: ConnectRecords.find() of a
 * recorded connection (one bpf() call copying its 8 KiB record, then the decoding) and of one
 * never recorded, LOOKUPS times each; tcpdump gives the SYN's sequence number. Needs root.
 * `npx tsc -p . && node dist/bench/connect-records-bench.js [LOOKUPS]`.
 */
const LOOKUPS = Number(process.argv[2] ?? 20_000);

const server = createServer((socket) => socket.end()).listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as { port: number }).port;
const syns = await SynWatcher.start(port);
const records = ConnectRecords.open([port]);
try {
  const script = `import socket; s=socket.create_connection(("127.0.0.1", ${port})); `
    + 'print(s.getsockname()[1])';
  const localPort = Number(execFileSync('/usr/bin/python3', ['-c', script]).toString());
  const syn = await syns.sequenceOf('127.0.0.1', localPort);
  const tuple = TcpTuple.parse('127.0.0.1', localPort, '127.0.0.1', port)!;
  const cases = [['recorded connection', syn], ['no record', (syn + 1) >>> 0]] as const;
  for (const [name, sequence] of cases) {
    const started = process.hrtime.bigint();
    for (let lookup = 0; lookup < LOOKUPS; lookup++) records.find(tuple, sequence);
    const microseconds = Number(process.hrtime.bigint() - started) / LOOKUPS / 1000;
    console.log(`${name.padEnd(20)} ${microseconds.toFixed(2)} µs per find (${LOOKUPS} finds)`);
  }
} finally {
  records.close();
  await syns.stop();
  server.close();
}
