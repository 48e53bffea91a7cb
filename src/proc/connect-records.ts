import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants, endianness } from 'node:os';
import { fileURLToPath } from 'node:url';
import { commandLineText, wholeCharactersLength } from './command-line-text.js';
import { ProcError } from './proc-error.js';
import type { TcpTuple } from './tcp-tuple.js';

/**
 * The addon and BPF object built by `npm run build:native` from native/connect-owner; this
 * file runs as dist/src/proc/connect-records.js, three folders below the package root.
 */
const BUILD_URL = new URL('../../../native/connect-owner/build/Release/', import.meta.url);
const ADDON_PATH = fileURLToPath(new URL('connect_owner.node', BUILD_URL));
const OBJECT_PATH = fileURLToPath(new URL('connect_owner.bpf.o', BUILD_URL));

/** native/connect-owner/connect_owner.c states the contract of these functions. */
interface ConnectOwnerAddon {
  open(objectPath: string, filter: Uint8Array): string;
  lookUp(family: 4 | 6, localAddress: Uint8Array, localPort: number, remoteAddress: Uint8Array,
    remotePort: number, initialSequence: number, record: Uint8Array): number;
  counters(result: Float64Array): number;
  close(): void;
  readonly constants: {
    readonly recordBytes: number;
    readonly counterCount: number;
    readonly filterBytes: number;
  };
}

/* struct connect_record in native/connect-owner/connect_owner.h: change them together. */
const START_TIME_NS = 0;
const PROCESS_ID = 8;
const PARENT_PROCESS_ID = 12;
const USER_ID = 16;
const FLAGS = 20;
const PATH_LENGTH = 24;
const COMMAND_LINE_LENGTH = 28;
const PATH = 32;
const PATH_BYTES = 4096;
const COMMAND_LINE = PATH + PATH_BYTES;
const COMMAND_LINE_BYTES = 4096;
const RECORD_BYTES = COMMAND_LINE + COMMAND_LINE_BYTES;
const PATH_TRUNCATED = 1;
const COMMAND_LINE_TRUNCATED = 2;
const COMMAND_LINE_UNREADABLE = 4;
/* struct connect_filter: the port bits, then the inode of the PID namespace, and padding. */
const PORT_BITS_BYTES = 65536 / 8;
const FILTER_BYTES = PORT_BITS_BYTES + 8;

/** What the kernel recorded of the process that connected a socket, as connect() ran. */
export interface ConnectRecord {
  readonly processId: number;
  readonly parentProcessId: number;
  /** The real uid. */
  readonly userId: number;
  /** The thread group leader's start, in ns after boot (/proc/PID/stat field 22 is in ticks). */
  readonly startTimeNs: bigint;
  /** The executable's path as /proc/PID/exe shows it; cut at 4,096 bytes (pathTruncated). */
  readonly imageFileName: string;
  /** argv joined by spaces, as from /proc/PID/cmdline; cut at 4,096 bytes. */
  readonly commandLine: string;
  readonly pathTruncated: boolean;
  readonly commandLineTruncated: boolean;
  /** argv was not in memory when the process connected (swapped out): commandLine is "". */
  readonly commandLineUnreadable: boolean;
}

/** Where the resolver finds connect records: ConnectRecords, or a test's table. */
export interface ConnectRecordSource {
  /**
   * The record of the connection whose client (the tuple's local side) sent its SYN with
   * `initialSequence`, undefined when there is none, or 'failed' when the lookup itself failed.
   */
  find(tuple: TcpTuple, initialSequence: number): ConnectRecord | undefined | 'failed';
}

/** The kernel's counters (connect_counters in connect_owner.bpf.c). */
export interface ConnectRecordCounters {
  /** Connections to an SMTP port whose record was stored by four-tuple. */
  recorded: number;
  /** Records the kernel could not store (map full of records in use: should stay 0). */
  updates_failed: number;
  paths_truncated: number;
  command_lines_unreadable: number;
  /** Connections by processes the sensor cannot see (outside its PID namespace): skipped. */
  outside_pid_namespace: number;
  /**
   * SYNs on a four-tuple with a sequence number already recorded: a forged SYN (TCP_REPAIR
   * chooses the sequence number), not recorded. Should stay 0.
   */
  duplicate_connections: number;
}

/** Loaded at most once per process: undefined until tried, else the addon or why not. */
let loadedAddon: ConnectOwnerAddon | Error | undefined;

function loadAddon(): ConnectOwnerAddon | Error {
  if (loadedAddon === undefined) {
    try {
      loadedAddon = createRequire(import.meta.url)(ADDON_PATH) as ConnectOwnerAddon;
    } catch (error) {
      loadedAddon = error instanceof Error ? error : new Error(String(error));
    }
  }
  return loadedAddon;
}

/**
 * The kernel's record of which process connected each SMTP connection of this host, made by
 * BPF programs on tracepoints as the process calls connect() and as its SYN is sent
 * (native/connect-owner). It answers for a connection whose socket was closed, and whose
 * process exited, before /proc could be read, in one bpf() call: the resolver asks it before
 * /proc (docs/process-attribution.md, "Kernel connect records").
 *
 * Only processes the sensor can see are recorded: those of the PID namespace of its /proc and
 * the ones below it, with their pids as that /proc numbers them; a client outside (the host's,
 * for a sensor in a container of its own) is as unknown to the records as to /proc.
 *
 * One per process: the addon holds one program per Node thread, and open() replaces it.
 * Sockets of every network namespace are recorded, keyed by four-tuple and the sequence number
 * of their SYN, so that connections on one four-tuple (in two namespaces, or one after the
 * other) never share a record.
 */
export class ConnectRecords implements ConnectRecordSource {
  private readonly record = Buffer.alloc(RECORD_BYTES);
  private readonly counterValues: Float64Array;

  private constructor(private readonly addon: ConnectOwnerAddon) {
    this.counterValues = new Float64Array(addon.constants.counterCount);
  }

  /**
   * Loads and attaches the BPF programs for connections to `ports`. Throws ProcError
   * `connect_records_unavailable` saying why it cannot: the addon not built, no BTF or BPF
   * support in the kernel, or no CAP_BPF and CAP_PERFMON.
   */
  static open(ports: readonly number[]): ConnectRecords {
    const addon = loadAddon();
    if (endianness() !== 'LE') {
      throw unavailable('records are decoded on little-endian hosts only');
    }
    if (addon instanceof Error) {
      throw unavailable(`the connect-owner addon cannot be loaded (${addon.message})`);
    }
    if (addon.constants.recordBytes !== RECORD_BYTES
      || addon.constants.filterBytes !== FILTER_BYTES) {
      throw unavailable('the addon was built from another connect_owner.h: rebuild it with '
        + 'npm run build:native');
    }
    const failure = addon.open(OBJECT_PATH, connectFilter(ports, procPidNamespace()));
    if (failure !== '') throw unavailable(failure);
    return new ConnectRecords(addon);
  }

  find(tuple: TcpTuple, initialSequence: number): ConnectRecord | undefined | 'failed' {
    const error = this.addon.lookUp(tuple.family, tuple.localAddressBytes, tuple.localPort,
      tuple.remoteAddressBytes, tuple.remotePort, initialSequence, this.record);
    if (error !== 0) return error === constants.errno.ENOENT ? undefined : 'failed';
    return decodeRecord(this.record);
  }

  counters(): ConnectRecordCounters {
    const values = this.counterValues;
    if (this.addon.counters(values) !== 0) values.fill(0);
    return {
      recorded: values[0],
      updates_failed: values[1],
      paths_truncated: values[2],
      command_lines_unreadable: values[3],
      outside_pid_namespace: values[4],
      duplicate_connections: values[5],
    };
  }

  /** Detaches the program; the records are gone with it. */
  close(): void {
    this.addon.close();
  }
}

function unavailable(reason: string): ProcError {
  return new ProcError('connect_records_unavailable',
    `kernel connect records are unavailable: ${reason}`);
}

/**
 * The inode of the PID namespace whose numbers the sensor's /proc shows: that of its pid 1,
 * which is that namespace's init (a sensor in a PID namespace of its own with the host's /proc
 * sees the host's pids). Its own namespace when pid 1's is not readable.
 */
function procPidNamespace(): number {
  for (const path of ['/proc/1/ns/pid', '/proc/self/ns/pid']) {
    try {
      return statSync(path).ino;
    } catch {
      // the next one
    }
  }
  throw unavailable('the PID namespace of /proc cannot be read');
}

function connectFilter(ports: readonly number[], pidNamespaceInode: number): Uint8Array {
  const filter = Buffer.alloc(FILTER_BYTES);
  for (const port of ports) filter[port >> 3] |= 1 << (port & 7);
  filter.writeUInt32LE(pidNamespaceInode, PORT_BITS_BYTES);
  return filter;
}

/** `record` is reused by the next lookup: the strings are copies. */
function decodeRecord(record: Buffer): ConnectRecord {
  const flags = record.readUInt32LE(FLAGS);
  const pathLength = Math.min(record.readUInt32LE(PATH_LENGTH), PATH_BYTES);
  const commandLineLength = Math.min(record.readUInt32LE(COMMAND_LINE_LENGTH),
    COMMAND_LINE_BYTES);
  return {
    processId: record.readUInt32LE(PROCESS_ID),
    parentProcessId: record.readUInt32LE(PARENT_PROCESS_ID),
    userId: record.readUInt32LE(USER_ID),
    startTimeNs: record.readBigUInt64LE(START_TIME_NS),
    imageFileName: record.toString('utf8', PATH, PATH + pathLength),
    commandLine: commandLineText(record.subarray(COMMAND_LINE),
      (flags & COMMAND_LINE_TRUNCATED) === 0 ? commandLineLength
        : wholeCharactersLength(record.subarray(COMMAND_LINE), commandLineLength)),
    pathTruncated: (flags & PATH_TRUNCATED) !== 0,
    commandLineTruncated: (flags & COMMAND_LINE_TRUNCATED) !== 0,
    commandLineUnreadable: (flags & COMMAND_LINE_UNREADABLE) !== 0,
  };
}
