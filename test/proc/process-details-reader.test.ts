import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ProcessDetailsReader } from '../../src/proc/process-details-reader.js';
import { SocketOwnerStats } from '../../src/proc/socket-owner-stats.js';
import { UserNameTable } from '../../src/proc/user-name-table.js';
import { FakeProcRoot } from './fake-proc-root.js';

const PASSWD = ['root:x:0:0:root:/root:/bin/bash',
  'postfix:x:107:113::/var/spool/postfix:/usr/sbin/nologin',
  'alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash', 'alias-of-root:x:0:0::/:/bin/sh'];

describe('ProcessDetailsReader: what an event reports of a process', () => {
  const proc = new FakeProcRoot();
  const stats = new SocketOwnerStats();
  let reader: ProcessDetailsReader;
  let users: UserNameTable;

  before(() => {
    proc.writePasswd(PASSWD);
    users = new UserNameTable(proc.passwdPath, 1 << 20, stats);
    reader = new ProcessDetailsReader(proc.root, users, 64, stats);
  });
  after(() => proc.dispose());

  test('a kernel thread has no executable and no command line', () => {
    proc.addProcess({ pid: 2, parentProcessId: 0, startTime: 0, comm: 'kthreadd',
      uids: [0, 0, 0, 0], argv: [] });
    assert.deepEqual(reader.read(2), { processId: '2', parentProcessId: '0', userId: '0',
      userName: 'root', imageFileName: '', commandLine: '' });
  });

  test('an executable removed while running is reported without " (deleted)"', () => {
    proc.addProcess({ pid: 700, parentProcessId: 1, startTime: 9, comm: 'mailer',
      uids: [107, 107, 107, 107], exe: '/opt/mailer/bin/mailer (deleted)',
      argv: ['/opt/mailer/bin/mailer', '--queue'] });
    const process = reader.read(700);
    assert.equal(process.imageFileName, '/opt/mailer/bin/mailer');
    assert.equal(process.commandLine, '/opt/mailer/bin/mailer --queue');
    assert.equal(process.userName, 'postfix');
  });

  test('a set-uid program reports its real uid, not the effective one', () => {
    proc.addProcess({ pid: 710, parentProcessId: 1, startTime: 9, comm: 'sendmail',
      uids: [1000, 0, 0, 0], exe: '/usr/sbin/sendmail', argv: ['sendmail', '-t'] });
    assert.equal(reader.read(710).userId, '1000');
    assert.equal(reader.read(710).userName, 'alice');
  });

  const commandLines: [string, Buffer, string][] = [
    ['an empty argument keeps its place', Buffer.from('printf\0\0x\0'), 'printf  x'],
    ['a title rewritten with NUL padding loses the padding',
      Buffer.from('postfix/smtp -t unix\0\0\0\0\0\0'), 'postfix/smtp -t unix'],
    ['no final NUL (setproctitle)', Buffer.from('sshd: alice [priv]'), 'sshd: alice [priv]'],
    ['UTF-8 arguments', Buffer.from('mail\0-s\0Grüße\0'), 'mail -s Grüße'],
  ];
  for (const [name, bytes, expected] of commandLines) {
    test(`command line: ${name}`, () => {
      proc.addProcess({ pid: 720, parentProcessId: 1, startTime: 9, comm: 'x',
        uids: [0, 0, 0, 0], argv: bytes });
      assert.equal(reader.read(720).commandLine, expected);
      proc.removeProcess(720);
    });
  }

  test('a command line longer than the limit is cut and counted', () => {
    proc.addProcess({ pid: 730, parentProcessId: 1, startTime: 9, comm: 'x',
      uids: [0, 0, 0, 0], argv: ['x'.repeat(100)] });
    assert.equal(reader.read(730).commandLine, 'x'.repeat(64));
    assert.equal(stats.command_lines_truncated, 1);
  });

  test('a process gone before it is read gives its pid and nothing else', () => {
    assert.deepEqual(reader.read(99_999), { processId: '99999', parentProcessId: '',
      userId: '', userName: '', imageFileName: '', commandLine: '' });
  });

  test('user names: the first line of a uid wins; the file is read again when it changes', () => {
    assert.equal(users.nameOf('0'), 'root');
    const reloads = stats.passwd_reloads;
    assert.equal(users.nameOf('1000'), 'alice');
    assert.equal(stats.passwd_reloads, reloads, 'unchanged file is not read again');
    proc.writePasswd([...PASSWD, 'bob:x:1001:1001::/home/bob:/bin/sh']);
    utimesSync(proc.passwdPath, new Date(2030, 0, 1), new Date(2030, 0, 1));
    assert.equal(users.nameOf('1001'), 'bob');
    assert.equal(stats.passwd_reloads, reloads + 1);
    assert.equal(users.nameOf('4242'), '', 'a uid the file does not list');
  });
});
