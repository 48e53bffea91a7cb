import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { kernelAddressText } from './kernel-address-text.js';

const IPV4_BYTES = 4;
const IPV6_BYTES = 16;
const MAX_PORT = 65_535;

/** ::ffff:0:0/96 (RFC 4291 section 2.5.5.2): how an IPv6 socket holds an IPv4 connection. */
const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
/** TCP_LISTEN (include/net/tcp_states.h) as the st column of /proc/net/tcp{,6} prints it. */
const LISTEN_STATE = '0A';

/**
 * Needles of the lines that list a socket listening for the connection's local address and
 * port, table by table, each table's needles in the kernel's order of preference for an
 * incoming SYN: bound to the address, then to the wildcard. A listener's remote end is the
 * wildcard address with port 0, and its state LISTEN, both part of the needle.
 */
export interface ListenerNeedles {
  /** /proc/net/tcp: bound to the address, then to 0.0.0.0; none for an IPv6 connection. */
  readonly tcp: readonly Buffer[];
  /** /proc/net/tcp6: bound to the address (IPv4-mapped for IPv4), then to ::. */
  readonly tcp6: readonly Buffer[];
}

/**
 * A TCP connection seen from the local socket, in the two forms the kernel is asked in: as
 * sock_diag's inet_diag_sockid wants it (family, addresses in network byte order, ports), and as
 * its line in /proc/net/tcp or tcp6: the needles are the exact text of the local and remote
 * endpoints there (addresses as kernelAddressText, ports with %04X), so a table lookup is one
 * byte search. An IPv4 connection has a needle for each table, because an IPv6 socket can hold
 * it as IPv4-mapped addresses. The text forms are made when first asked for: a lookup through
 * sock_diag needs none of them, and making them costs more than the lookup (20 µs against 6).
 */
export class TcpTuple {
  private ipv4NeedleBytes: Buffer | undefined;
  private ipv6NeedleBytes: Buffer | undefined;
  private listenerNeedleBytes: ListenerNeedles | undefined;
  private localText: string | undefined;

  private constructor(
    /** 4 or 6; an IPv4-mapped connection is 4. */
    readonly family: 4 | 6,
    /** 4 or 16 bytes, network byte order. */
    readonly localAddressBytes: Buffer,
    readonly localPort: number,
    readonly remoteAddressBytes: Buffer,
    readonly remotePort: number,
  ) {}

  /**
   * Undefined when an address is not IPv4 or IPv6 text, the two differ in family, or a port is
   * not 1 to 65535. IPv4-mapped IPv6 text is taken as the IPv4 address it maps.
   */
  static parse(
    localAddress: string, localPort: number, remoteAddress: string, remotePort: number,
  ): TcpTuple | undefined {
    const local = addressBytes(localAddress);
    const remote = addressBytes(remoteAddress);
    if (local === undefined || remote === undefined || local.length !== remote.length) {
      return undefined;
    }
    if (!isPort(localPort) || !isPort(remotePort)) return undefined;
    const family = local.length === IPV6_BYTES ? 6 : 4;
    return new TcpTuple(family, Buffer.from(local), localPort, Buffer.from(remote), remotePort);
  }

  /** The same for every spelling of the same connection: the key of the connection cache. */
  get key(): string {
    return `${this.localAddressBytes.toString('hex')}.${this.localPort}`
      + `-${this.remoteAddressBytes.toString('hex')}.${this.remotePort}`;
  }

  /** Needle for /proc/net/tcp; undefined for an IPv6 connection. */
  get ipv4Needle(): Buffer | undefined {
    if (this.family === 6) return undefined;
    this.ipv4NeedleBytes ??= needle([...this.localAddressBytes], this.localPort,
      [...this.remoteAddressBytes], this.remotePort);
    return this.ipv4NeedleBytes;
  }

  /** Needle for /proc/net/tcp6 (IPv4-mapped for an IPv4 connection). */
  get ipv6Needle(): Buffer {
    this.ipv6NeedleBytes ??= needle(toIpv6([...this.localAddressBytes]), this.localPort,
      toIpv6([...this.remoteAddressBytes]), this.remotePort);
    return this.ipv6NeedleBytes;
  }

  /** Needles of the listeners that could have accepted the connection (server side local). */
  get listenerNeedles(): ListenerNeedles {
    this.listenerNeedleBytes ??= listenerNeedles([...this.localAddressBytes], this.localPort);
    return this.listenerNeedleBytes;
  }

  /** The local address as kernelAddressText, to find the namespaces that own it. */
  get localAddressText(): string {
    this.localText ??= kernelAddressText([...this.localAddressBytes]);
    return this.localText;
  }
}

/** 4 bytes for IPv4 and IPv4-mapped text, 16 for other IPv6, undefined for anything else. */
function addressBytes(text: string): number[] | undefined {
  if (isIPv4(text)) return text.split('.').map(Number);
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  if (!isIPv6(address)) return undefined;
  const bytes = ipaddr.IPv6.parse(address).toByteArray();
  const mapped = IPV4_MAPPED_PREFIX.every((byte, index) => bytes[index] === byte);
  return mapped ? bytes.slice(IPV4_MAPPED_PREFIX.length) : bytes;
}

function toIpv6(bytes: number[]): number[] {
  return bytes.length === IPV4_BYTES ? [...IPV4_MAPPED_PREFIX, ...bytes] : bytes;
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= MAX_PORT;
}

/**
 * The endpoints as the line prints them, framed by the ": " after the slot number and the space
 * before the state, so that it can match nowhere else in the line.
 */
function needle(local: number[], localPort: number, remote: number[], remotePort: number) {
  const localEndpoint = `${kernelAddressText(local)}:${portHex(localPort)}`;
  const text = `: ${localEndpoint} ${kernelAddressText(remote)}:${portHex(remotePort)} `;
  return Buffer.from(text, 'latin1');
}

function listenerNeedles(local: number[], port: number): ListenerNeedles {
  const anyIpv4 = new Array<number>(IPV4_BYTES).fill(0);
  const anyIpv6 = new Array<number>(IPV6_BYTES).fill(0);
  const tcp6 = [listenerNeedle(toIpv6(local), port, anyIpv6),
    listenerNeedle(anyIpv6, port, anyIpv6)];
  if (local.length === IPV6_BYTES) return { tcp: [], tcp6 };
  return { tcp: [listenerNeedle(local, port, anyIpv4), listenerNeedle(anyIpv4, port, anyIpv4)],
    tcp6 };
}

/** A listener's endpoints and state as its line prints them: `: ADDR:PORT ANY:0000 0A `. */
function listenerNeedle(local: number[], port: number, any: number[]): Buffer {
  const text = `: ${kernelAddressText(local)}:${portHex(port)} ${kernelAddressText(any)}:0000 `
    + `${LISTEN_STATE} `;
  return Buffer.from(text, 'latin1');
}

function portHex(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
