/**
 * Link-layer header types (tcpdump.org/linktypes.html) that the sensor decodes. Values are the
 * DLT numbers libpcap reports for an open capture.
 */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 12,
  RAW_OPENBSD: 14,
  RAW_LINKTYPE: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const SUPPORTED = new Set<number>(Object.values(LinkType));

/** node_pcap names the link types it knows and calls the others "Unknown linktype N". */
const NODE_PCAP_NAMES: Readonly<Record<string, number>> = {
  LINKTYPE_NULL: LinkType.NULL,
  LINKTYPE_ETHERNET: LinkType.ETHERNET,
  LINKTYPE_RAW: LinkType.RAW,
  LINKTYPE_LINUX_SLL: LinkType.LINUX_SLL,
  LINKTYPE_IEEE802_11_RADIO: 127,
};

/** The DLT number behind node_pcap's link type string, or -1 when it names none. */
export function linkTypeFromNodePcap(name: string): number {
  const known = NODE_PCAP_NAMES[name];
  if (known !== undefined) return known;
  const match = /^Unknown linktype (\d+)$/.exec(name);
  return match ? Number(match[1]) : -1;
}

export function isSupportedLinkType(linkType: number): boolean {
  return SUPPORTED.has(linkType);
}

export const SUPPORTED_LINK_TYPE_NAMES =
  'Ethernet (with 802.1Q/QinQ tags), Linux cooked v1 and v2, raw IP, BSD loopback';
