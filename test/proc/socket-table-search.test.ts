import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findListenerInode, findSocketInode, SOCKET_NOT_LISTED }
  from '../../src/proc/socket-table-search.js';
import { tcpLine, timeWaitLine } from './fake-proc-root.js';

const CLIENT = '0500000A:C350';
const SERVER = '196433C6:0019';
const needle = Buffer.from(`: ${CLIENT} ${SERVER} `, 'latin1');

function table(...lines: string[]): Buffer {
  return Buffer.from(`  sl  local_address rem_address   st\n${lines.join('\n')}\n`, 'latin1');
}

describe('findSocketInode: one connection in a /proc/net/tcp table', () => {
  test('an established connection gives its inode', () => {
    const text = table(tcpLine(0, '00000000:0019', '00000000:0000', '0A', 0, 11),
      tcpLine(1, CLIENT, SERVER, '01', 107, 7001));
    assert.equal(findSocketInode(text, needle), 7001);
  });

  test('a TIME_WAIT entry is listed with inode 0', () => {
    assert.equal(findSocketInode(table(timeWaitLine(0, CLIENT, SERVER)), needle), 0);
  });

  test('a live socket wins over a TIME_WAIT entry of the same four-tuple', () => {
    const text = table(timeWaitLine(0, CLIENT, SERVER), tcpLine(1, CLIENT, SERVER, '02', 0, 9));
    assert.equal(findSocketInode(text, needle), 9);
  });

  test('the reverse direction (the server side of a local connection) does not match', () => {
    const text = table(tcpLine(0, SERVER, CLIENT, '01', 0, 8001));
    assert.equal(findSocketInode(text, needle), SOCKET_NOT_LISTED);
  });

  test('an empty table lists nothing', () => {
    assert.equal(findSocketInode(table(), needle), SOCKET_NOT_LISTED);
  });
});

describe('findListenerInode: the listener of an address and port in a /proc/net/tcp table', () => {
  const listenerNeedle = Buffer.from(': 0500000A:0019 00000000:0000 0A ', 'latin1');

  test('a line in LISTEN (0A) with remote 00000000:0000 gives its inode', () => {
    const text = table(tcpLine(0, '0500000A:0019', '00000000:0000', '0A', 0, 11),
      tcpLine(1, '0500000A:0019', '196433C6:C350', '01', 107, 7001));
    assert.equal(findListenerInode(text, listenerNeedle), 11);
  });

  test('a socket bound to the port but not listening (CLOSE, 07) is no listener', () => {
    const text = table(tcpLine(0, '0500000A:0019', '00000000:0000', '07', 0, 12));
    assert.equal(findListenerInode(text, listenerNeedle), SOCKET_NOT_LISTED);
  });

  test('connections of the port, and a listener of another port, are not its listener', () => {
    const text = table(tcpLine(0, '0500000A:0019', '196433C6:C350', '01', 107, 7001),
      tcpLine(1, '0500000A:001A', '00000000:0000', '0A', 0, 13));
    assert.equal(findListenerInode(text, listenerNeedle), SOCKET_NOT_LISTED);
  });
});
