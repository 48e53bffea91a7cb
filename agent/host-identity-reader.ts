import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { HostIdentity } from '../src/events/host-identity.js';

const MACHINE_ID_PATH = '/etc/machine-id';

/** The host's identity: aid from /etc/machine-id (empty when unreadable), its host name. */
export function readHostIdentity(aidOverride?: string): HostIdentity {
  return { aid: aidOverride ?? readMachineId(), computerName: hostname() };
}

function readMachineId(): string {
  try {
    return readFileSync(MACHINE_ID_PATH, 'utf8').trim();
  } catch {
    return '';
  }
}
