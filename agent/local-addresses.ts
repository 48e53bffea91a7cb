import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';

/** Interfaces come and go (DHCP, VPNs): their addresses are read again this often. */
const REFRESH_INTERVAL_MS = 30_000;

/**
 * The host's own addresses, in the sensor's network namespace, in the text form the capture
 * layer writes (ipaddr.js). Loopback addresses are always local.
 */
export class LocalAddresses {
  private addresses = new Set<string>();
  private nextRefresh = -Infinity;

  /** `time` is the capture time in ms; the interface list is read again when it is stale. */
  has(address: string, time: number): boolean {
    if (time >= this.nextRefresh || time < this.nextRefresh - REFRESH_INTERVAL_MS) {
      this.refresh(time);
    }
    return this.addresses.has(address) || isLoopback(address);
  }

  private refresh(time: number): void {
    this.nextRefresh = time + REFRESH_INTERVAL_MS;
    const addresses = new Set<string>();
    for (const list of Object.values(networkInterfaces())) {
      for (const entry of list ?? []) addresses.add(normalise(entry.address));
    }
    this.addresses = addresses;
  }
}

function normalise(address: string): string {
  try {
    return ipaddr.parse(address.replace(/%.*$/, '')).toString();
  } catch {
    return address;
  }
}

function isLoopback(address: string): boolean {
  if (address.startsWith('127.') || address === '::1') return true;
  return address.startsWith('::ffff:127.');
}
