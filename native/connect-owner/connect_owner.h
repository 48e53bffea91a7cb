/*
 * The layout shared by the BPF program (connect_owner.bpf.c), its loader (connect_owner.c) and
 * the TypeScript that decodes a record (src/proc/connect-records.ts, which repeats the offsets:
 * change them together).
 */
#ifndef CONNECT_OWNER_H
#define CONNECT_OWNER_H

#include <linux/types.h>

/*
 * Connections remembered, the oldest dropped first. The sensor looks a connection up when it
 * sees the SYN, milliseconds after the record was made, so this is seconds of new SMTP
 * connections even at a busy relay's rate. With CONNECTING_SOCKET_ENTRIES, 12 MiB of kernel
 * memory (8,224 bytes a record).
 */
#define CONNECT_RECORD_ENTRIES 1024
/* Sockets in SYN_SENT until their SYN is queued, usually microseconds: those connecting at once. */
#define CONNECTING_SOCKET_ENTRIES 512
/*
 * Longer executable paths and command lines are cut, and flagged: a path as long as PATH_MAX,
 * which is all /proc/PID/exe can show, and as much argv as a page.
 */
#define CONNECT_RECORD_PATH_BYTES 4096
#define CONNECT_RECORD_COMMAND_LINE_BYTES 4096

#define CONNECT_RECORD_PATH_TRUNCATED 1
#define CONNECT_RECORD_COMMAND_LINE_TRUNCATED 2
/* The argv pages were not resident (a BPF program cannot fault them in): no command line. */
#define CONNECT_RECORD_COMMAND_LINE_UNREADABLE 4

/* Indexes in connect_counters. */
#define CONNECT_COUNTER_RECORDED 0
#define CONNECT_COUNTER_UPDATES_FAILED 1
#define CONNECT_COUNTER_PATHS_TRUNCATED 2
#define CONNECT_COUNTER_COMMAND_LINES_UNREADABLE 3
/* Connections by processes outside the sensor's PID namespace: not recorded. */
#define CONNECT_COUNTER_OUTSIDE_PID_NAMESPACE 4
/* SYNs of a four-tuple and sequence number already recorded: forged, and not recorded. */
#define CONNECT_COUNTER_DUPLICATE_CONNECTIONS 5
#define CONNECT_COUNTER_COUNT 6

/*
 * family 4 or 6; addresses in network order, an IPv4 one in the first 4 bytes; ports and the
 * initial sequence number (the SYN's) in host order. The initial sequence number tells apart
 * connections of one four-tuple: a later connection that takes it again, one in another network
 * namespace, or a connect() that failed before its SYN (which is never recorded).
 */
struct connect_key {
  __u8 family;
  __u8 padding;
  __u16 local_port;
  __u16 remote_port;
  __u16 padding2;
  __u32 initial_sequence;
  __u8 local[16];
  __u8 remote[16];
};

/* Numbers in host byte order. start_time_ns: task start_boottime, ns since boot. */
struct connect_record {
  __u64 start_time_ns;
  __u32 process_id;
  __u32 parent_process_id;
  __u32 user_id;
  __u32 flags;
  __u32 path_length;
  __u32 command_line_length;
  char path[CONNECT_RECORD_PATH_BYTES];
  char command_line[CONNECT_RECORD_COMMAND_LINE_BYTES];
};

/*
 * What user space sets before attaching. Only connections to a remote port in port_bits (bit
 * port & 7 of byte port >> 3) are recorded, and only by processes the sensor can see: those in
 * the PID namespace of its /proc (pid_namespace_inode) or one below it, whose pids are
 * recorded as that namespace numbers them, as the sensor's /proc shows them.
 */
struct connect_filter {
  __u8 port_bits[65536 / 8];
  __u32 pid_namespace_inode;
  __u32 padding;
};

#endif
