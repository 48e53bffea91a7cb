// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Kernel side of the connect records (docs/process-attribution.md, "Kernel connect records").
 *
 * Two programs on tracepoints. A client socket enters SYN_SENT (sock:inet_sock_set_state) in
 * connect() (or sendmsg() with MSG_FASTOPEN), in the context of the calling process, before its
 * SYN is sent; record_connect() records what the process is then, and the record stays after
 * the socket is closed and the process gone: /proc cannot name the owner of a socket that was
 * closed before the sensor looked, and a client on loopback can be done in 3 ms. The local port
 * is chosen later, so the record is kept by socket until record_syn() sees the SYN queued to its
 * device (net:net_dev_queue), and then stored by four-tuple and initial sequence number in
 * `connect_records`, for connections to a port set in `connect_filter`: the process (thread
 * group) id, parent, real uid, start time, executable path and command line. User space looks
 * a connection up by the four-tuple and sequence number of the SYN it captured
 * (connect_owner.c); entries are never deleted, the LRU map drops the oldest.
 *
 * (fentry on tcp_connect(), after the port is chosen, would be simpler, but BPF trampolines are
 * not available on every kernel that has tracepoints: some refuse them with EPERM.)
 *
 * No vmlinux.h: the structures below name only the fields read, and preserve_access_index lets
 * libbpf find each field in the running kernel's BTF (CO-RE), wherever that kernel puts it.
 *
 * The license must be GPL-compatible for the kernel to allow bpf_probe_read_kernel() and
 * bpf_probe_read_user(); this file alone is offered under GPL-2.0 or MIT.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "connect_owner.h"

#define EEXIST 17
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
/* include/net/tcp_states.h */
#define TCP_SYN_SENT 2
/* The TCP header's flags byte, and two of its flags (RFC 9293 section 3.1). */
#define TCP_FLAGS_OFFSET 13
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10
/*
 * Path components followed up to the root: as many as a path of CONNECT_RECORD_PATH_BYTES can
 * have ("/a" each); bpf_loop() makes the count cost the verifier nothing.
 */
#define MAX_PATH_COMPONENTS (CONNECT_RECORD_PATH_BYTES / 2)
/* include/linux/pid_namespace.h: MAX_PID_NS_LEVEL, the deepest a PID namespace can be. */
#define MAX_PID_NAMESPACE_LEVEL 32
/* fs/dcache.c: a name is at most NAME_MAX (255) bytes. */
#define MAX_NAME_BYTES 255
/* The path is built backwards, from its end at PATH_SCRATCH_END, in a scratch buffer. */
#define PATH_SCRATCH_END CONNECT_RECORD_PATH_BYTES
#define PATH_SCRATCH_MASK (PATH_SCRATCH_END - 1)

struct in6_addr {
  union {
    __u8 u6_addr8[16];
  } in6_u;
} __attribute__((preserve_access_index));

struct sock_common {
  __be32 skc_daddr;
  __be32 skc_rcv_saddr;
  __be16 skc_dport;
  __u16 skc_num;
  unsigned short skc_family;
  struct in6_addr skc_v6_daddr;
  struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
  struct sock_common __sk_common;
  __u16 sk_protocol;
} __attribute__((preserve_access_index));

struct qstr {
  __u32 len;
  const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
  struct dentry *d_parent;
  struct qstr d_name;
} __attribute__((preserve_access_index));

struct vfsmount {
  struct dentry *mnt_root;
} __attribute__((preserve_access_index));

struct mount {
  struct mount *mnt_parent;
  struct dentry *mnt_mountpoint;
  struct vfsmount mnt;
} __attribute__((preserve_access_index));

struct path {
  struct vfsmount *mnt;
  struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
  struct path f_path;
} __attribute__((preserve_access_index));

struct mm_struct {
  unsigned long arg_start;
  unsigned long arg_end;
  struct file *exe_file;
} __attribute__((preserve_access_index));

struct ns_common {
  unsigned int inum;
} __attribute__((preserve_access_index));

struct pid_namespace {
  struct ns_common ns;
} __attribute__((preserve_access_index));

struct upid {
  int nr;
  struct pid_namespace *ns;
} __attribute__((preserve_access_index));

struct pid {
  unsigned int level;
  struct upid numbers[1];
} __attribute__((preserve_access_index));

struct task_struct {
  struct task_struct *real_parent;
  struct task_struct *group_leader;
  struct pid *thread_pid;
  struct mm_struct *mm;
  __u64 start_boottime;
} __attribute__((preserve_access_index));

struct sk_buff {
  struct sock *sk;
  unsigned char *head;
  __u16 transport_header;
} __attribute__((preserve_access_index));

struct path_scratch {
  char bytes[PATH_SCRATCH_END + CONNECT_RECORD_PATH_BYTES];
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, CONNECT_RECORD_ENTRIES);
  __type(key, struct connect_key);
  __type(value, struct connect_record);
} connect_records SEC(".maps");

/*
 * Entries in connecting_sockets, so that record_syn() skips every packet while there are none.
 * Only a hint: an entry the LRU drops is not subtracted, which costs lookups, never a record.
 */
__u64 sockets_connecting = 0;

/* Records of sockets still connecting, by the socket's kernel address. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, CONNECTING_SOCKET_ENTRIES);
  __type(key, __u64);
  __type(value, struct connect_record);
} connecting_sockets SEC(".maps");

/* The ports and PID namespace user space sets before attaching (connect_owner.h). */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct connect_filter);
} connect_filter SEC(".maps");

/* The record is built here, not on the 512-byte BPF stack, then copied into the LRU map. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct connect_record);
} record_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct path_scratch);
} path_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, CONNECT_COUNTER_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} connect_counters SEC(".maps");

static void count(__u32 counter) {
  __u64 *value = bpf_map_lookup_elem(&connect_counters, &counter);
  if (value) *value += 1;
}

static struct connect_filter *current_filter(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&connect_filter, &zero);
}

static int is_smtp_port(const struct connect_filter *filter, __u16 port) {
  return filter->port_bits[port >> 3] & (1 << (port & 7));
}

/*
 * A task's pid as the sensor's /proc numbers it (pid_nr_ns() in kernel/pid.c, for the PID
 * namespace of that /proc), 0 when the task is outside that namespace and those below it, as
 * /proc there shows a parent outside. A pid has one number per level, from the initial
 * namespace down to its own.
 */
static __u32 pid_in_namespace(struct task_struct *task, const struct connect_filter *filter) {
  struct pid *pid = BPF_CORE_READ(task, thread_pid);
  if (!pid) return 0;
  __u32 level = BPF_CORE_READ(pid, level);
  for (__u32 index = 0; index <= MAX_PID_NAMESPACE_LEVEL && index <= level; index++) {
    struct upid *upid = (void *)pid + bpf_core_field_offset(struct pid, numbers)
                        + index * bpf_core_type_size(struct upid);
    if (BPF_CORE_READ(upid, ns, ns.inum) == filter->pid_namespace_inode) {
      return BPF_CORE_READ(upid, nr);
    }
  }
  return 0;
}

/* An IPv6 socket connected to an IPv4 address (::ffff:a.b.c.d) sends IPv4 packets. */
static int is_ipv4_mapped(const __u8 *address) {
  for (int index = 0; index < 10; index++) {
    if (address[index] != 0) return 0;
  }
  return address[10] == 0xff && address[11] == 0xff;
}

/* The key as user space builds it from a packet: IPv4 addresses in the first 4 bytes. */
static int read_key(struct sock *sk, struct connect_key *key) {
  unsigned short family = BPF_CORE_READ(sk, __sk_common.skc_family);
  key->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
  key->remote_port = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (family == AF_INET) {
    __be32 local = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    __be32 remote = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    key->family = 4;
    __builtin_memcpy(key->local, &local, 4);
    __builtin_memcpy(key->remote, &remote, 4);
    return 0;
  }
  if (family != AF_INET6) return -1;
  bpf_core_read(key->local, sizeof key->local, &sk->__sk_common.skc_v6_rcv_saddr);
  bpf_core_read(key->remote, sizeof key->remote, &sk->__sk_common.skc_v6_daddr);
  key->family = 6;
  if (is_ipv4_mapped(key->remote)) {
    key->family = 4;
    __builtin_memcpy(key->local, key->local + 12, 4);
    __builtin_memcpy(key->remote, key->remote + 12, 4);
    __builtin_memset(key->local + 4, 0, 12);
    __builtin_memset(key->remote + 4, 0, 12);
  }
  return 0;
}

/* Where a walk up the executable's path is: bpf_loop() calls path_step() with it. */
struct path_walk {
  struct path_scratch *scratch;
  struct dentry *dentry;
  struct vfsmount *vfsmount;
  struct mount *mount;
  __u32 start;
  int complete;
};

/* One step of prepend_path(): a component, or a move from a mount's root to its mount point. */
static long path_step(__u32 step, void *context) {
  struct path_walk *walk = context;
  struct dentry *dentry = walk->dentry;
  struct vfsmount *vfsmount = walk->vfsmount;
  struct mount *mount = walk->mount;
  if (dentry == BPF_CORE_READ(vfsmount, mnt_root)) {
    struct mount *parent = BPF_CORE_READ(mount, mnt_parent);
    if (parent == mount) {
      walk->complete = 1;
      return 1;
    }
    walk->dentry = BPF_CORE_READ(mount, mnt_mountpoint);
    walk->mount = parent;
    walk->vfsmount = (void *)parent + bpf_core_field_offset(struct mount, mnt);
    return 0;
  }
  /*
   * Its own parent, yet not a mount's root: a file of no directory, as memfd_create() makes.
   * d_path() names it "/NAME (deleted)" (simple_dname() in fs/d_path.c); it is prepended as
   * "/NAME", the " (deleted)" being what user space drops from /proc's answer anyway.
   */
  struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
  if (parent == dentry) walk->complete = 1;
  __u32 length = BPF_CORE_READ(dentry, d_name.len);
  if (length > MAX_NAME_BYTES || length + 1 > walk->start) return 1;
  __u32 start = walk->start - length;
  char *bytes = walk->scratch->bytes;
  bpf_probe_read_kernel(&bytes[start & PATH_SCRATCH_MASK], length & MAX_NAME_BYTES,
                        BPF_CORE_READ(dentry, d_name.name));
  start -= 1;
  bytes[start & PATH_SCRATCH_MASK] = '/';
  walk->start = start;
  walk->dentry = parent;
  return walk->complete ? 1 : 0;
}

/*
 * The executable's path as d_path() would give it from the initial root: the dentry names up
 * to the root of each mount, then on from the mount point in the parent mount
 * (prepend_path() in fs/d_path.c, without its locking, which a BPF program cannot take: a
 * rename at that very moment can give a mixed path). Returns the path's length, 0 when it
 * could not be read.
 */
static __u32 read_executable_path(struct task_struct *task, struct connect_record *record) {
  __u32 zero = 0;
  struct path_walk walk = {.start = PATH_SCRATCH_END};
  struct file *exe = BPF_CORE_READ(task, mm, exe_file);
  walk.scratch = bpf_map_lookup_elem(&path_scratch, &zero);
  if (!walk.scratch || !exe) return 0;
  walk.dentry = BPF_CORE_READ(exe, f_path.dentry);
  walk.vfsmount = BPF_CORE_READ(exe, f_path.mnt);
  walk.mount = (void *)walk.vfsmount - bpf_core_field_offset(struct mount, mnt);
  bpf_loop(MAX_PATH_COMPONENTS, path_step, &walk, 0);
  __u32 start = walk.start;
  if (start == PATH_SCRATCH_END) {
    if (!walk.complete) return 0;
    start -= 1;
    walk.scratch->bytes[start & PATH_SCRATCH_MASK] = '/';
  }
  __u32 length = PATH_SCRATCH_END - start;
  if (!walk.complete || length > CONNECT_RECORD_PATH_BYTES) {
    record->flags |= CONNECT_RECORD_PATH_TRUNCATED;
    count(CONNECT_COUNTER_PATHS_TRUNCATED);
  }
  /* A fixed length keeps the verifier's bounds simple; the scratch has room after its end. */
  bpf_probe_read_kernel(record->path, CONNECT_RECORD_PATH_BYTES,
                        &walk.scratch->bytes[start & PATH_SCRATCH_MASK]);
  return length > CONNECT_RECORD_PATH_BYTES ? CONNECT_RECORD_PATH_BYTES : length;
}

/*
 * argv as /proc/PID/cmdline shows it (get_mm_cmdline() in fs/proc/base.c): the bytes from
 * arg_start to arg_end, NUL-separated; or, when the last of them is not a NUL, a title the
 * process wrote over them (setproctitle(), perl's $0), which may run on into the environment:
 * the bytes from arg_start to the first NUL.
 */
static __u32 read_command_line(struct task_struct *task, struct connect_record *record) {
  struct mm_struct *mm = BPF_CORE_READ(task, mm);
  unsigned long arg_start = BPF_CORE_READ(mm, arg_start);
  unsigned long arg_end = BPF_CORE_READ(mm, arg_end);
  char last = 0;
  if (arg_end <= arg_start) return 0;
  if (bpf_probe_read_user(&last, 1, (void *)(arg_end - 1)) != 0) {
    record->flags |= CONNECT_RECORD_COMMAND_LINE_UNREADABLE;
    count(CONNECT_COUNTER_COMMAND_LINES_UNREADABLE);
    return 0;
  }
  if (last != 0) {
    long copied = bpf_probe_read_user_str(record->command_line,
                                          CONNECT_RECORD_COMMAND_LINE_BYTES, (void *)arg_start);
    if (copied <= 0) return 0;
    if (copied == CONNECT_RECORD_COMMAND_LINE_BYTES) {
      record->flags |= CONNECT_RECORD_COMMAND_LINE_TRUNCATED;
    }
    return (__u32)copied - 1;
  }
  unsigned long length = arg_end - arg_start;
  if (length > CONNECT_RECORD_COMMAND_LINE_BYTES) {
    length = CONNECT_RECORD_COMMAND_LINE_BYTES;
    record->flags |= CONNECT_RECORD_COMMAND_LINE_TRUNCATED;
  }
  barrier_var(length);
  if (bpf_probe_read_user(record->command_line, length, (void *)arg_start) != 0) {
    record->flags |= CONNECT_RECORD_COMMAND_LINE_UNREADABLE;
    count(CONNECT_COUNTER_COMMAND_LINES_UNREADABLE);
    return 0;
  }
  return length;
}

/*
 * The calling process, as the sensor's /proc would show it now, kept under the socket's address
 * until its SYN is sent. Nothing for a process the sensor cannot see (outside the PID namespace
 * of its /proc): its connections are no one's the sensor could name.
 */
static void record_connecting_process(struct sock *sk, const struct connect_filter *filter) {
  __u32 zero = 0;
  __u64 socket = (__u64)sk;
  struct connect_record *record = bpf_map_lookup_elem(&record_scratch, &zero);
  struct task_struct *task = (void *)bpf_get_current_task();
  struct task_struct *leader = BPF_CORE_READ(task, group_leader);
  if (!record) return;
  record->process_id = pid_in_namespace(leader, filter);
  if (record->process_id == 0) {
    count(CONNECT_COUNTER_OUTSIDE_PID_NAMESPACE);
    return;
  }
  record->flags = 0;
  /* PPid is the parent's thread group id, task_tgid_nr_ns(real_parent) in /proc. */
  record->parent_process_id =
    pid_in_namespace(BPF_CORE_READ(leader, real_parent, group_leader), filter);
  record->user_id = (__u32)bpf_get_current_uid_gid();
  record->start_time_ns = BPF_CORE_READ(leader, start_boottime);
  record->path_length = read_executable_path(task, record);
  record->command_line_length = read_command_line(task, record);
  if (bpf_map_update_elem(&connecting_sockets, &socket, record, BPF_NOEXIST) == 0) {
    __sync_fetch_and_add(&sockets_connecting, 1);
  } else if (bpf_map_update_elem(&connecting_sockets, &socket, record, BPF_ANY) != 0) {
    count(CONNECT_COUNTER_UPDATES_FAILED);
  }
}

/*
 * The initial sequence number of a client's SYN (SYN set, ACK not) in `skb`, from its TCP
 * header (RFC 9293 section 3.1: sequence number at byte 4, flags at byte 13); -1 for any other
 * segment.
 */
static int syn_sequence(struct sk_buff *skb, __u32 *sequence) {
  unsigned char *head = BPF_CORE_READ(skb, head);
  __u16 offset = BPF_CORE_READ(skb, transport_header);
  __u8 header[TCP_FLAGS_OFFSET + 1];
  if (bpf_probe_read_kernel(header, sizeof header, head + offset) != 0) return -1;
  if ((header[TCP_FLAGS_OFFSET] & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN) return -1;
  *sequence = ((__u32)header[4] << 24) | ((__u32)header[5] << 16) | ((__u32)header[6] << 8)
              | header[7];
  return 0;
}

/* Gives back a socket's entry in connecting_sockets, if it has one. */
static void forget_connecting(__u64 socket) {
  if (bpf_map_delete_elem(&connecting_sockets, &socket) == 0) {
    __sync_fetch_and_add(&sockets_connecting, -1);
  }
}

/*
 * The tracepoint in tcp_set_state(). Entering SYN_SENT is in the connecting process's context
 * (tcp_v4_connect(), tcp_v6_connect()), but before the local port is chosen, so the record is
 * kept by socket until record_syn() sees its SYN. Leaving SYN_SENT (the SYN-ACK, a refusal, a
 * timeout, a close), a socket whose SYN was never sent (a connect() that failed) gives its
 * entry back, unrecorded.
 */
SEC("tp_btf/inet_sock_set_state")
int record_connect(unsigned long long *context) {
  struct sock *sk = (void *)context[0];
  int old_state = (int)context[1];
  int new_state = (int)context[2];
  if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP) return 0;
  if (new_state == TCP_SYN_SENT) {
    struct connect_filter *wanted = current_filter();
    __u16 remote_port = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
    if (wanted && is_smtp_port(wanted, remote_port)) record_connecting_process(sk, wanted);
  } else if (old_state == TCP_SYN_SENT) {
    forget_connecting((__u64)sk);
  }
  return 0;
}

/*
 * The tracepoint in __dev_queue_xmit(), for every packet sent: the SYN of a recorded socket is
 * queued here, its port and initial sequence number chosen, before any capture on the device
 * can see it (packet taps run later, in dev_queue_xmit_nit()). Its record moves to
 * connect_records, keyed by four-tuple and initial sequence number, before the sensor can
 * process the SYN. Packets of other sockets cost one read of sockets_connecting while no
 * recorded socket is connecting, and a hash lookup while one is.
 */
SEC("tp_btf/net_dev_queue")
int record_syn(unsigned long long *context) {
  struct sk_buff *skb = (void *)context[0];
  if (sockets_connecting == 0) return 0;
  struct sock *sk = BPF_CORE_READ(skb, sk);
  __u64 socket = (__u64)sk;
  struct connect_record *record = bpf_map_lookup_elem(&connecting_sockets, &socket);
  struct connect_key key = {};
  if (!record || syn_sequence(skb, &key.initial_sequence) != 0 || read_key(sk, &key) != 0
      || key.local_port == 0) {
    return 0;
  }
  /*
   * The first record of a connection stays: a SYN on the same four-tuple with the same
   * sequence number is not a new connection but a forgery (TCP_REPAIR sets the sequence number,
   * and a user may do that in a network namespace of their own), made after the real SYN was
   * seen, since its sequence number cannot be known before.
   */
  long stored = bpf_map_update_elem(&connect_records, &key, record, BPF_NOEXIST);
  if (stored == 0) {
    count(CONNECT_COUNTER_RECORDED);
  } else {
    count(stored == -EEXIST ? CONNECT_COUNTER_DUPLICATE_CONNECTIONS
                            : CONNECT_COUNTER_UPDATES_FAILED);
  }
  forget_connecting(socket);
  return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
