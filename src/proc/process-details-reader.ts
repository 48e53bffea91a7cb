import { readlinkSync } from 'node:fs';
import { commandLineText, wholeCharactersLength } from './command-line-text.js';
import { ProcFileReader } from './proc-file-reader.js';
import type { ProcessInfo } from './process-info.js';
import type { SocketOwnerStats } from './socket-owner-stats.js';
import type { UserNameTable } from './user-name-table.js';

/** /proc/PID/status is about 1.5 KiB; twice that leaves room for fields kernels add. */
const MAX_STATUS_BYTES = 4096;

/** d_path() appends this to the path of a file that was unlinked (fs/d_path.c). */
const DELETED_SUFFIX = ' (deleted)';

/**
 * Reads what an event reports of a process: executable, command line, parent, real uid and its
 * user name. Read afresh on every call, not cached: execve() changes the executable and the
 * command line but neither the pid nor the start time, so a cache keyed on them could report
 * the program a process ran before it took its socket. It costs four small reads.
 */
export class ProcessDetailsReader {
  private readonly statusReader = new ProcFileReader(MAX_STATUS_BYTES);
  private readonly commandLineReader: ProcFileReader;

  constructor(
    private readonly procRoot: string,
    private readonly users: UserNameTable,
    maxCommandLineBytes: number,
    private readonly stats: SocketOwnerStats,
  ) {
    this.commandLineReader = new ProcFileReader(maxCommandLineBytes);
  }

  /** What can still be read of `pid`: fields of a process that exited meanwhile are "". */
  read(pid: number): ProcessInfo {
    const folder = `${this.procRoot}/${pid}`;
    const status = this.statusReader.read(`${folder}/status`)?.toString('latin1') ?? '';
    const userId = statusField(status, 'Uid');
    return {
      processId: String(pid),
      parentProcessId: statusField(status, 'PPid'),
      userId,
      userName: userId === '' ? '' : this.users.nameOf(userId),
      imageFileName: this.readImageFileName(folder),
      commandLine: this.readCommandLine(folder),
    };
  }

  /**
   * The exe link, without the " (deleted)" the kernel adds once the file was removed or
   * replaced (as a package upgrade does): the event reports the path the program ran from.
   */
  private readImageFileName(folder: string): string {
    let target: string;
    try {
      target = readlinkSync(`${folder}/exe`);
    } catch {
      return ''; // kernel threads and zombies have no executable
    }
    return target.endsWith(DELETED_SUFFIX) ? target.slice(0, -DELETED_SUFFIX.length) : target;
  }

  private readCommandLine(folder: string): string {
    const bytes = this.commandLineReader.read(`${folder}/cmdline`);
    if (bytes === undefined) return '';
    if (!this.commandLineReader.truncated) return commandLineText(bytes, bytes.length);
    this.stats.command_lines_truncated++;
    return commandLineText(bytes, wholeCharactersLength(bytes, bytes.length));
  }
}

/** The first number of a "Name:\tvalue" line of /proc/PID/status (for Uid, the real uid). */
function statusField(status: string, name: string): string {
  const label = `\n${name}:`;
  const at = status.indexOf(label);
  if (at === -1) return '';
  const match = /^\s*(\d+)/.exec(status.slice(at + label.length, at + label.length + 32));
  return match === null ? '' : match[1];
}
