import { spawnSync } from 'node:child_process';
import { SYSTEM_PYTHON } from './smtp-server.js';

let refusal: string | undefined;

/**
 * Why the live tests cannot run on this machine, or '' when they can. They capture on real
 * interfaces, read every process's /proc and create network namespaces, which takes root, and
 * their servers are Debian's aiosmtpd (scripts/setup-debian.sh installs it).
 */
export function liveTestRefusal(): string {
  refusal ??= findRefusal();
  return refusal;
}

function findRefusal(): string {
  if (process.getuid?.() !== 0) return 'live capture tests need root';
  const aiosmtpd = spawnSync(SYSTEM_PYTHON, ['-c', 'import aiosmtpd'], { encoding: 'utf8' });
  if (aiosmtpd.status !== 0) return `aiosmtpd is not installed for ${SYSTEM_PYTHON}`;
  return '';
}
