import { CaptureError } from './capture-error.js';
import {
  MAX_SNAP_LENGTH, nodePcapBinding, PACKET_HEADER_BYTES, type NativePcapSession,
} from './node-pcap-binding.js';
import {
  isSupportedLinkType, linkTypeFromNodePcap, SUPPORTED_LINK_TYPE_NAMES,
} from './link-type.js';
import type { PacketCallback } from './pcap-file-reader.js';

export interface LiveCaptureOptions {
  /** An interface name, or `any` for all of them (Linux cooked capture). */
  interfaceName: string;
  /** A BPF filter in tcpdump's syntax, compiled by libpcap. */
  filter: string;
  /** Kernel buffer for packets not read yet; packets past it are dropped (ps_drop). */
  bufferBytes: number;
}

/** libpcap's own counters (pcap_stats(3PCAP)): what the kernel saw and dropped. */
export interface LiveCaptureCounters {
  received: number;
  dropped: number;
  interfaceDropped: number;
}

/**
 * A live capture through libpcap in immediate mode: each packet is handed over as soon as it
 * arrives, not in one-second batches, so a short-lived sender is still alive when its first
 * packet is processed. Packets are read from the event loop whenever the capture's file
 * descriptor is readable.
 */
export class LiveCapture {
  private readonly session: NativePcapSession = new nodePcapBinding.PcapSession();
  private readonly buf = Buffer.alloc(MAX_SNAP_LENGTH);
  private readonly header = Buffer.alloc(PACKET_HEADER_BYTES);
  private open = false;
  readonly linkType: number;

  /** Opens the capture; throws CaptureError naming the interface when libpcap refuses. */
  constructor(options: LiveCaptureOptions, onPacket: PacketCallback) {
    const { buf, header } = this;
    let linkType = -1;
    let name: string;
    try {
      name = this.session.open_live(options.interfaceName, options.filter, options.bufferBytes,
        MAX_SNAP_LENGTH, '', () => onPacket(buf, header, linkType), false, 0, () => {}, false);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new CaptureError('capture_device_error',
        `cannot capture on interface '${options.interfaceName}': ${reason}`, { cause: error });
    }
    this.open = true;
    linkType = linkTypeFromNodePcap(name);
    this.linkType = linkType;
    if (!isSupportedLinkType(linkType)) {
      this.close();
      throw new CaptureError('unsupported_link_type', `interface '${options.interfaceName}' `
        + `has link type ${linkType}, not supported (supported: ${SUPPORTED_LINK_TYPE_NAMES})`);
    }
  }

  /**
   * Starts reading packets from the event loop; `afterRead` runs after each batch of packets
   * read at once (to flush output, say).
   */
  start(afterRead: () => void): void {
    this.session.read_callback = () => {
      this.session.dispatch(this.buf, this.header);
      afterRead();
    };
    this.session.start_polling();
  }

  counters(): LiveCaptureCounters {
    if (!this.open) return { received: 0, dropped: 0, interfaceDropped: 0 };
    const stats = this.session.stats();
    return { received: stats.ps_recv, dropped: stats.ps_drop, interfaceDropped: stats.ps_ifdrop };
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.session.close();
  }
}
