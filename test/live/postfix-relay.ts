import { spawnSync } from 'node:child_process';
import {
  existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

const MAIN_CF = '/etc/postfix/main.cf';
const MASTER_PID_FILE = '/var/spool/postfix/pid/master.pid';
/** Postfix's SMTP client: the program that really talks to the relay host. */
export const POSTFIX_SMTP_CLIENT = '/usr/lib/postfix/sbin/smtp';
/**
 * Held while a test has changed postfix. It keeps the original main.cf, so that a test
 * process killed before its `after` hook can be cleaned up after by the next one. Test files
 * run in parallel, and two `npm test` runs may overlap: they take turns.
 */
const LOCK_FOLDER = '/run/smtp-sensor-live-postfix';
const LOCK_WAIT_MS = 30_000;
const LOCK_POLL_MS = 200;

/**
 * The machine's postfix, configured for a test to relay all mail to `[127.0.0.1]:PORT` and
 * started; `restore()` puts back main.cf byte for byte and leaves postfix stopped (or running,
 * reloaded, if it was running before).
 */
export class PostfixRelay {
  private restored = false;

  private constructor(private readonly wasRunning: boolean) {}

  /**
   * Configures and starts postfix. Throws PostfixUnavailableError, with the reason, when
   * postfix is not installed, busy with another test, or does not start; main.cf is then
   * already restored.
   */
  static async start(relayPort: number, heloName: string): Promise<PostfixRelay> {
    if (!existsSync(MAIN_CF) || !existsSync(POSTFIX_SMTP_CLIENT)) {
      throw new PostfixUnavailableError('postfix is not installed');
    }
    await takeLock();
    const relay = new PostfixRelay(postfix('status').ok);
    writeFileSync(join(LOCK_FOLDER, 'main.cf'), readFileSync(MAIN_CF));
    if (relay.wasRunning) writeFileSync(join(LOCK_FOLDER, 'was-running'), '');
    try {
      run('postconf', '-e', `relayhost = [127.0.0.1]:${relayPort}`, 'default_transport = smtp',
        `smtp_helo_name = ${heloName}`, 'smtp_tls_security_level = none');
      const started = postfix(relay.wasRunning ? 'reload' : 'start');
      if (!started.ok) {
        throw new PostfixUnavailableError(`postfix did not start: ${started.output}`);
      }
    } catch (error) {
      relay.restore();
      throw error;
    }
    return relay;
  }

  /** Pid of postfix's master process, the parent of its SMTP clients. */
  masterPid(): string {
    return readFileSync(MASTER_PID_FILE, 'utf8').trim();
  }

  /** Deletes the queued messages from `sender` (a delivery that failed), restores main.cf. */
  restore(sender?: string): void {
    if (this.restored) return;
    this.restored = true;
    if (sender !== undefined) deleteQueuedFrom(sender);
    restoreFromLock();
  }
}

export class PostfixUnavailableError extends Error {
  readonly code = 'postfix_unavailable';
}

/** Pids of the running postfix SMTP clients: /proc/PID/exe is POSTFIX_SMTP_CLIENT. */
export function postfixSmtpClientPids(): string[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/exe`) === POSTFIX_SMTP_CLIENT;
    } catch {
      return false;
    }
  });
}

/** mkdir is atomic: whoever creates the folder holds the lock. */
async function takeLock(): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_FOLDER);
      writeFileSync(join(LOCK_FOLDER, 'owner'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readOrEmpty(join(LOCK_FOLDER, 'owner')));
    if (owner > 0 && !isRunning(owner)) {
      restoreFromLock();
      continue;
    }
    if (Date.now() > deadline) {
      throw new PostfixUnavailableError(`postfix is in use by test process ${owner}`);
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

/** Puts back the main.cf kept in the lock, returns postfix to its state, frees the lock. */
function restoreFromLock(): void {
  const original = join(LOCK_FOLDER, 'main.cf');
  if (existsSync(original)) {
    writeFileSync(MAIN_CF, readFileSync(original));
    postfix(existsSync(join(LOCK_FOLDER, 'was-running')) ? 'reload' : 'stop');
  }
  rmSync(LOCK_FOLDER, { recursive: true, force: true });
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function postfix(command: string): { ok: boolean; output: string } {
  const result = spawnSync('postfix', [command], { encoding: 'utf8', timeout: 30_000 });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

function run(command: string, ...args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) {
    throw new PostfixUnavailableError(`${command} ${args.join(' ')}: ${result.stderr?.trim()}`);
  }
}

/** `postqueue -j` prints one JSON object per queued message. */
function deleteQueuedFrom(sender: string): void {
  const queue = spawnSync('postqueue', ['-j'], { encoding: 'utf8', timeout: 30_000 });
  for (const line of (queue.stdout ?? '').split('\n').filter(Boolean)) {
    const message = JSON.parse(line) as { queue_id: string; sender: string };
    if (message.sender === sender) {
      spawnSync('postsuper', ['-d', message.queue_id], { stdio: 'ignore', timeout: 30_000 });
    }
  }
}
