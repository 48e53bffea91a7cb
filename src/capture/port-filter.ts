/**
 * The BPF filter (pcap-filter(7)) that keeps TCP on the given ports, tagged with 802.1Q or
 * not: `vlan` shifts the offsets of what follows it, so tagged frames need their own branch.
 */
export function portFilter(ports: readonly number[]): string {
  const tcpOnPorts = `tcp and (${ports.map((port) => `port ${port}`).join(' or ')})`;
  return `(${tcpOnPorts}) or (vlan and ${tcpOnPorts})`;
}
