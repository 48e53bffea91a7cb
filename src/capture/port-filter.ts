/**
 * BPF filters (pcap-filter(7)) that keep TCP on the given ports, best first: with a branch
 * for 802.1Q-tagged frames (`vlan` shifts the offsets of what follows it, so tagged frames
 * need their own branch), then without, for link types on which libpcap refuses `vlan`
 * (Linux cooked capture, what `any` gives, where tags are already stripped).
 */
export function portFilters(ports: readonly number[]): string[] {
  const tcpOnPorts = `tcp and (${ports.map((port) => `port ${port}`).join(' or ')})`;
  return [`(${tcpOnPorts}) or (vlan and ${tcpOnPorts})`, tcpOnPorts];
}
