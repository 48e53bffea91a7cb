import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttributedConnection, ConnectionAttribution }
  from '../../agent/connection-attribution.js';
import type { ConnectionEndpoints } from '../../src/events/connection-context.js';
import { type ProcessInfo, UNKNOWN_PROCESS } from '../../src/proc/process-info.js';
import { ethernetEncapsulation } from '../helpers/link-encapsulation.js';
import { TcpConversation } from '../helpers/tcp-conversation.js';
import { runPipeline } from '../capture/pipeline-commands.js';

const ETHERNET = 1;
const SWAKS: ProcessInfo = { processId: '601', parentProcessId: '600', userId: '0',
  userName: 'root', imageFileName: '/usr/bin/perl', commandLine: '/usr/bin/perl /usr/bin/swaks' };

/** Outbound, unknown at the SYN; clientProcess() answers `late` and counts its calls. */
class LateAttribution implements ConnectionAttribution {
  asked: number[] = [];
  constructor(private readonly late: ProcessInfo) {}

  atFirstPacket(): AttributedConnection {
    return { direction: 0, process: UNKNOWN_PROCESS, awaitsClientProcess: true };
  }

  serverProcess(): ProcessInfo {
    return UNKNOWN_PROCESS;
  }

  clientProcess(_endpoints: ConnectionEndpoints, time: number): ProcessInfo {
    this.asked.push(time);
    return this.late;
  }
}

function session(): TcpConversation {
  const conversation = new TcpConversation({ client: { address: '192.0.2.5', port: 40000 },
    server: { address: '198.51.100.25', port: 25 } });
  conversation.handshake();
  conversation.send('server', '220 mx.example.net ESMTP\r\n');
  conversation.send('client', 'EHLO client.example\r\n');
  conversation.send('server', '250 mx.example.net\r\n');
  conversation.send('client', 'QUIT\r\n');
  conversation.send('server', '221 bye\r\n');
  return conversation.close();
}

describe('a client process unknown at the SYN is asked for again at the first data', () => {
  test('once, at the server\'s greeting; every command then names the process', () => {
    const attribution = new LateAttribution(SWAKS);
    const conversation = session();
    const { events } = runPipeline(conversation.toFrames(ethernetEncapsulation()), ETHERNET, {},
      attribution);
    const commands = events.filter((event) => event.event_simpleName === 'SmtpCommand');
    assert.deepEqual(commands.map((event) => event.SmtpVerb), ['EHLO', 'QUIT']);
    for (const event of commands) {
      assert.equal(event.ContextProcessId, '601');
      assert.equal(event.CommandLine, '/usr/bin/perl /usr/bin/swaks');
    }
    // The greeting is the fourth packet (SYN, SYN-ACK, ACK at 1 ms steps from the start).
    assert.deepEqual(attribution.asked, [1_700_000_000_003]);
  });

  test('still unknown then: the events have empty process fields, asked only once', () => {
    const attribution = new LateAttribution(UNKNOWN_PROCESS);
    const { events } = runPipeline(session().toFrames(ethernetEncapsulation()), ETHERNET, {},
      attribution);
    const commands = events.filter((event) => event.event_simpleName === 'SmtpCommand');
    assert.equal(commands.length, 2);
    for (const event of commands) assert.equal(event.ContextProcessId, '');
    assert.equal(attribution.asked.length, 1);
  });
});
