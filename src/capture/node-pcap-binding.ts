import { createRequire } from 'node:module';

/**
 * node_pcap's native session, used directly. Its JavaScript wrapper makes an object and emits
 * an event per packet, which cost 8% of a replay in the profile (bench/README.md); the native
 * session calls a plain callback instead, after copying the packet into the buffers given to
 * `dispatch`: the packet bytes into `buf` (cut at its length) and struct pcap_pkthdr into
 * `header` (seconds, microseconds, captured length, wire length; 4 bytes each, host order).
 */
export interface NativePcapSession {
  open_offline(path: string, filter: string, bufferSize: number, snapLength: number,
    outputFile: string, onPacket: () => void, monitor: boolean, timeout: number,
    onWarning: (message: string) => void, promiscuous: boolean): string;
  /** A timeout of 0 asks for immediate mode: each packet is handed over as it arrives. */
  open_live(device: string, filter: string, bufferSize: number, snapLength: number,
    outputFile: string, onPacket: () => void, monitor: boolean, timeout: number,
    onWarning: (message: string) => void, promiscuous: boolean): string;
  /** Reads every packet available now (all the rest, for a file), calling onPacket for each. */
  dispatch(buf: Buffer, header: Buffer): number;
  /** Live: calls `read_callback` from the event loop whenever packets can be read. */
  start_polling(): void;
  read_callback?: () => void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  /** Only asks libpcap to break its loop: see closeNativeSession. */
  close(): void;
}

/**
 * Closes a session for good. node_pcap's close() only breaks libpcap's loop; the handle is
 * closed, and a live session's polling of its descriptor stopped, by the next dispatch that
 * finds the loop broken. For a file that is the dispatch made here. A live capture with no
 * packet waiting returns from that dispatch before it looks at the broken loop, so its
 * descriptor stays polled: the agent ends the process itself after a live capture.
 */
export function closeNativeSession(session: NativePcapSession): void {
  session.close();
  session.dispatch(CLOSING_BUFFER, CLOSING_HEADER);
}

export const nodePcapBinding = createRequire(import.meta.url)(
  'pcap/build/Release/pcap_binding') as {
  PcapSession: new () => NativePcapSession;
  lib_version(): string;
};

export const PACKET_HEADER_BYTES = 16;
const CLOSING_BUFFER = Buffer.alloc(64);
const CLOSING_HEADER = Buffer.alloc(PACKET_HEADER_BYTES);
/** libpcap's largest snap length: packets up to this size are kept whole. */
export const MAX_SNAP_LENGTH = 262_144;
