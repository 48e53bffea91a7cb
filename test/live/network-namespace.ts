import { spawnSync } from 'node:child_process';

/** Third octets tried for a free 10.250.X.0/30; bounded by the size of the octet. */
const SUBNET_CHOICES = 256;
const NAME_PREFIX = 'smtp-sensor-live-';

/**
 * An `ip netns` namespace joined to the host by a veth pair, like a container: the host's end
 * has 10.250.X.1/30, the namespace's end 10.250.X.2/30. Names carry the test process's pid, so
 * test files running at the same time do not collide.
 */
export class NetworkNamespace {
  private deleted = false;

  private constructor(
    readonly name: string,
    readonly hostInterface: string,
    readonly hostAddress: string,
    readonly namespaceAddress: string,
  ) {}

  /** `label` is one letter or digit that tells a file's namespaces apart. */
  static create(label: string): NetworkNamespace {
    removeOrphanedNamespaces();
    const name = `${NAME_PREFIX}${process.pid}-${label}`;
    const hostInterface = `ssl${process.pid}${label}h`;
    const peerInterface = `ssl${process.pid}${label}n`;
    const octet = freeSubnetOctet();
    const namespace = new NetworkNamespace(name, hostInterface, `10.250.${octet}.1`,
      `10.250.${octet}.2`);
    try {
      ip('netns', 'add', name);
      ip('link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', peerInterface,
        'netns', name);
      ip('addr', 'add', `${namespace.hostAddress}/30`, 'dev', hostInterface);
      ip('link', 'set', hostInterface, 'up');
      ip('-n', name, 'addr', 'add', `${namespace.namespaceAddress}/30`, 'dev', peerInterface);
      ip('-n', name, 'link', 'set', peerInterface, 'up');
      ip('-n', name, 'link', 'set', 'lo', 'up');
    } catch (error) {
      namespace.delete();
      throw error;
    }
    return namespace;
  }

  /** argv that runs `argv` inside the namespace (`ip netns exec` execs it in place). */
  exec(argv: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', this.name, ...argv];
  }

  /**
   * Removes the veth pair and the namespace. Processes still inside keep the namespace alive
   * until they exit, so end them first. Safe to call twice.
   */
  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    spawnSync('ip', ['link', 'del', this.hostInterface], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
  }
}

/**
 * Namespaces that test processes no longer running left behind: a test file killed by a
 * timeout never runs its `after` hooks.
 */
function removeOrphanedNamespaces(): void {
  const listing = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of listing.split('\n')) {
    const name = line.split(' ')[0];
    const owner = name.startsWith(NAME_PREFIX) ? Number(name.slice(NAME_PREFIX.length)
      .split('-')[0]) : NaN;
    if (Number.isInteger(owner) && !isRunning(owner)) {
      spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    }
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

function ip(...args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`ip ${args.join(' ')} failed: ${result.stderr?.trim() ?? result.error}`);
  }
}

/** An X such that no address of the host is in 10.250.X.0/24, starting from the pid. */
function freeSubnetOctet(): number {
  const addresses = spawnSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout;
  for (let attempt = 0; attempt < SUBNET_CHOICES; attempt++) {
    const octet = (process.pid + attempt) % SUBNET_CHOICES;
    if (!addresses.includes(` 10.250.${octet}.`)) return octet;
  }
  throw new Error('no free 10.250.X.0/30 subnet for a test namespace');
}
