import { CaptureError } from './capture-error.js';
import {
  closeNativeSession, MAX_SNAP_LENGTH, nodePcapBinding, PACKET_HEADER_BYTES,
  type NativePcapSession,
} from './node-pcap-binding.js';
import {
  isSupportedLinkType, linkTypeFromNodePcap, SUPPORTED_LINK_TYPE_NAMES,
} from './link-type.js';
import type { PacketCallback } from './pcap-file-reader.js';

export interface LiveCaptureOptions {
  /** An interface name, or `any` for all of them (Linux cooked capture). */
  interfaceName: string;
  /**
   * BPF filters in tcpdump's syntax, tried in order until libpcap compiles one for the
   * interface's link type (`vlan` is refused on Linux cooked capture, for one).
   */
  filters: readonly string[];
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

  /** The filter libpcap accepted. */
  readonly filter: string;

  /** Opens the capture; throws CaptureError naming the interface when libpcap refuses. */
  constructor(options: LiveCaptureOptions, onPacket: PacketCallback) {
    const { buf, header } = this;
    let linkType = -1;
    const opened = this.openWithFirstFilter(options, () => onPacket(buf, header, linkType));
    this.open = true;
    this.filter = opened.filter;
    linkType = linkTypeFromNodePcap(opened.linkTypeName);
    this.linkType = linkType;
    if (!isSupportedLinkType(linkType)) {
      this.close();
      throw new CaptureError('unsupported_link_type', `interface '${options.interfaceName}' `
        + `has link type ${linkType}, not supported (supported: ${SUPPORTED_LINK_TYPE_NAMES})`);
    }
  }

  private openWithFirstFilter(options: LiveCaptureOptions, onNativePacket: () => void) {
    let failure: unknown;
    for (const filter of options.filters) {
      try {
        const linkTypeName = this.session.open_live(options.interfaceName, filter,
          options.bufferBytes, MAX_SNAP_LENGTH, '', onNativePacket, false, 0, () => {}, false);
        return { filter, linkTypeName };
      } catch (error) {
        failure = error;
      }
    }
    const reason = failure instanceof Error ? failure.message : String(failure);
    throw new CaptureError('capture_device_error',
      `cannot capture on interface '${options.interfaceName}': ${reason}`, { cause: failure });
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
    closeNativeSession(this.session);
  }
}
