import { statSync } from 'node:fs';
import { ProcFileReader } from './proc-file-reader.js';
import type { SocketOwnerStats } from './socket-owner-stats.js';

const NAME_COLUMN = 0;
const UID_COLUMN = 2;

/**
 * User names by uid, from a passwd file (passwd(5)). The file is checked on every lookup, one
 * stat call, and read again when its inode, size or mtime changed: useradd and vipw write a new
 * file and rename it over the old one, which changes the inode even within one mtime tick.
 * Limitation: only this file is read; a user known only to an NSS service such as LDAP or SSSD
 * has no name here ("").
 */
export class UserNameTable {
  private names = new Map<string, string>();
  private version = '';
  private readonly reader: ProcFileReader;

  constructor(readonly path: string, maxBytes: number, private readonly stats: SocketOwnerStats) {
    this.reader = new ProcFileReader(maxBytes);
  }

  /** The name of `uid` (decimal text), "" when the file does not list it. */
  nameOf(uid: string): string {
    this.refresh();
    return this.names.get(uid) ?? '';
  }

  private refresh(): void {
    const status = statSync(this.path, { throwIfNoEntry: false });
    const version = status === undefined ? 'absent'
      : `${status.ino}:${status.size}:${status.mtimeMs}`;
    if (version === this.version) return;
    this.version = version;
    this.stats.passwd_reloads++;
    const text = status === undefined ? undefined : this.reader.read(this.path);
    if (this.reader.truncated) this.stats.passwd_truncated++;
    this.names = text === undefined ? new Map() : parsePasswd(text.toString('utf8'));
  }
}

/** The first line for a uid wins, as getpwuid(3) returns it. */
function parsePasswd(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of text.split('\n')) {
    const columns = line.split(':');
    const uid = columns[UID_COLUMN];
    if (uid === undefined || uid === '' || names.has(uid)) continue;
    names.set(uid, columns[NAME_COLUMN]);
  }
  return names;
}
