import {
  BsdAddressFamily,
  EtherType,
  LinkType,
  LinuxPacketType,
  encodeBsdLoopbackFrame,
  encodeEthernetFrame,
  encodeLinuxCookedV1Frame,
  encodeLinuxCookedV2Frame,
} from './link-layer.js';
import type { VlanTag } from './link-layer.js';

export type PacketDirection = 'client-to-server' | 'server-to-client';

/** How IP packets of one capture are framed: the file's link type and the per-packet wrapper. */
export interface LinkEncapsulation {
  linkType: number;
  wrap(ipPacket: Buffer, ipVersion: 4 | 6, direction: PacketDirection): Buffer;
}

const CLIENT_MAC = Buffer.from('020000000010', 'hex');
const SERVER_MAC = Buffer.from('020000000025', 'hex');

function etherTypeOf(ipVersion: 4 | 6): number {
  return ipVersion === 4 ? EtherType.IPV4 : EtherType.IPV6;
}

export function ethernetEncapsulation(vlanTags: readonly VlanTag[] = []): LinkEncapsulation {
  return {
    linkType: LinkType.ETHERNET,
    wrap: (payload, ipVersion, direction) => {
      const fromClient = direction === 'client-to-server';
      return encodeEthernetFrame({
        etherType: etherTypeOf(ipVersion),
        payload,
        sourceMac: fromClient ? CLIENT_MAC : SERVER_MAC,
        destinationMac: fromClient ? SERVER_MAC : CLIENT_MAC,
        vlanTags,
      });
    },
  };
}

/** The capturing host is the client: its packets are outgoing, the server's are to-host. */
function linuxPacketType(direction: PacketDirection): number {
  return direction === 'client-to-server' ? LinuxPacketType.OUTGOING : LinuxPacketType.HOST;
}

export function linuxCookedV1Encapsulation(): LinkEncapsulation {
  return {
    linkType: LinkType.LINUX_SLL,
    wrap: (payload, ipVersion, direction) =>
      encodeLinuxCookedV1Frame({
        protocol: etherTypeOf(ipVersion),
        payload,
        packetType: linuxPacketType(direction),
        linkAddress: direction === 'client-to-server' ? CLIENT_MAC : SERVER_MAC,
      }),
  };
}

export function linuxCookedV2Encapsulation(): LinkEncapsulation {
  return {
    linkType: LinkType.LINUX_SLL2,
    wrap: (payload, ipVersion, direction) =>
      encodeLinuxCookedV2Frame({
        protocol: etherTypeOf(ipVersion),
        payload,
        packetType: linuxPacketType(direction),
        linkAddress: direction === 'client-to-server' ? CLIENT_MAC : SERVER_MAC,
        interfaceIndex: 2,
      }),
  };
}

export function rawIpEncapsulation(): LinkEncapsulation {
  return { linkType: LinkType.RAW, wrap: (payload) => payload };
}

export function bsdLoopbackEncapsulation(
  ipv6Family: number = BsdAddressFamily.INET6_FREEBSD,
  byteOrder: 'little-endian' | 'big-endian' = 'little-endian',
): LinkEncapsulation {
  return {
    linkType: LinkType.NULL,
    wrap: (payload, ipVersion) => {
      const family = ipVersion === 4 ? BsdAddressFamily.INET : ipv6Family;
      return encodeBsdLoopbackFrame(family, payload, byteOrder);
    },
  };
}
