/*
 * User-space side of the connect records: loads connect_owner.bpf.o with libbpf, attaches its
 * programs to the sock:inet_sock_set_state and net:net_dev_queue tracepoints, and looks records
 * up by four-tuple.
 * connect_owner.bpf.c says what is recorded and when.
 *
 * Exports:
 *   open(objectPath, filter) -> string
 *     Loads and attaches the programs; filter is a Uint8Array holding a struct connect_filter
 *     (connect_owner.h: the remote ports and the PID namespace of the connections recorded).
 *     Returns "" on success, else what failed, with libbpf's last message and the errno text.
 *     Opening again first closes what was open.
 *   lookUp(family, localAddress, localPort, remoteAddress, remotePort, initialSequence,
 *          record) -> errno
 *     family 4 or 6; addresses are Uint8Arrays of 4 or 16 bytes in network order;
 *     initialSequence the sequence number of the client's SYN; record is a
 *     Uint8Array of at least sizeof(struct connect_record) that receives the record when 0 is
 *     returned. ENOENT: no record for that connection; EBADF: not open; another errno: the
 *     lookup failed. Throws only on arguments of the wrong type or size.
 *   counters(result) -> errno
 *     result: a Float64Array of CONNECT_COUNTER_COUNT that receives the counters, summed over
 *     the CPUs.
 *   close() -> undefined
 *     Detaches the programs and frees their maps. Also done when the Node environment ends, and
 *     by the kernel when the process exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <node_api.h>
#include "connect_owner.h"
#include "node_api_arguments.h"

#define IPV4_BYTES 4
#define IPV6_BYTES 16
#define MESSAGE_BYTES 512
/* Per-CPU values are read in one buffer; more CPUs than this read as failed (E2BIG). */
#define MAX_CPUS 1024

/* One per Node environment (the main thread, each worker). */
/* The programs of connect_owner.bpf.c: record_connect and record_syn. */
#define PROGRAM_COUNT 2

struct connect_owner_state {
  struct bpf_object *object;
  struct bpf_link *links[PROGRAM_COUNT];
  int records_fd;
  int counters_fd;
};

/*
 * libbpf's first warning since open() began, for the message open() returns: the cause, where
 * later ones only say that loading failed. libbpf would otherwise print to the standard error,
 * where the agent's structured log lines go. Shared by threads, which is harmless: it only
 * words an error.
 */
static char first_libbpf_message[MESSAGE_BYTES];
static const char LIBBPF_PREFIX[] = "libbpf: ";

static int keep_libbpf_message(enum libbpf_print_level level, const char *format, va_list args) {
  char line[MESSAGE_BYTES];
  if (level != LIBBPF_WARN || first_libbpf_message[0] != '\0') return 0;
  int length = vsnprintf(line, sizeof line, format, args);
  if (length <= 1) return 0;
  line[strcspn(line, "\n")] = '\0';
  const char *text = line;
  if (strncmp(text, LIBBPF_PREFIX, sizeof LIBBPF_PREFIX - 1) == 0) {
    text += sizeof LIBBPF_PREFIX - 1;
  }
  /*
   * Printed when libbpf's probe for memory-cgroup accounting failed for want of privilege,
   * before the failure that matters; with that accounting (Linux 5.11) the limit is unused.
   */
  if (strstr(text, "RLIMIT_MEMLOCK") != NULL) return 0;
  snprintf(first_libbpf_message, sizeof first_libbpf_message, "%s", text);
  return 0;
}

static void close_object(struct connect_owner_state *state) {
  for (int index = 0; index < PROGRAM_COUNT; index++) {
    bpf_link__destroy(state->links[index]);
    state->links[index] = NULL;
  }
  bpf_object__close(state->object);
  state->object = NULL;
  state->records_fd = -1;
  state->counters_fd = -1;
}

static int fail(struct connect_owner_state *state, char *message, const char *step, int error) {
  close_object(state);
  snprintf(message, MESSAGE_BYTES, "%.120s: %.80s%s%.280s", step,
           strerror(error > 0 ? error : -error),
           first_libbpf_message[0] ? "; libbpf: " : "", first_libbpf_message);
  return error;
}

static int map_fd(struct bpf_object *object, const char *name) {
  struct bpf_map *map = bpf_object__find_map_by_name(object, name);
  return map == NULL ? -ENOENT : bpf_map__fd(map);
}

/* 0, or an errno with `message` saying which step failed. */
static int open_object(struct connect_owner_state *state, const char *path,
                       const struct connect_filter *filter, char *message) {
  uint32_t zero = 0;
  close_object(state);
  first_libbpf_message[0] = '\0';
  libbpf_set_print(keep_libbpf_message);
  state->object = bpf_object__open_file(path, NULL);
  if (state->object == NULL) return fail(state, message, "open BPF object", errno);
  int error = bpf_object__load(state->object);
  if (error == -EPERM) {
    return fail(state, message, "load BPF program (it takes CAP_BPF and CAP_PERFMON)", error);
  }
  if (error != 0) return fail(state, message, "load BPF program", error);
  int filter_fd = map_fd(state->object, "connect_filter");
  state->records_fd = map_fd(state->object, "connect_records");
  state->counters_fd = map_fd(state->object, "connect_counters");
  if (filter_fd < 0 || state->records_fd < 0 || state->counters_fd < 0) {
    return fail(state, message, "find BPF maps", ENOENT);
  }
  if (bpf_map_update_elem(filter_fd, &zero, filter, BPF_ANY) != 0) {
    return fail(state, message, "set the connect filter", errno);
  }
  struct bpf_program *program;
  int attached = 0;
  bpf_object__for_each_program(program, state->object) {
    if (attached == PROGRAM_COUNT) return fail(state, message, "attach programs", E2BIG);
    state->links[attached] = bpf_program__attach(program);
    if (state->links[attached] == NULL) {
      char step[128];
      snprintf(step, sizeof step, "attach %s", bpf_program__section_name(program));
      return fail(state, message, step, errno);
    }
    attached++;
  }
  return attached == PROGRAM_COUNT ? 0 : fail(state, message, "find BPF programs", ENOENT);
}

static int look_up(const struct connect_owner_state *state, int family, const uint8_t *local,
                   uint16_t local_port, const uint8_t *remote, uint16_t remote_port,
                   uint32_t initial_sequence, struct connect_record *record) {
  struct connect_key key;
  size_t address_bytes = family == 4 ? IPV4_BYTES : IPV6_BYTES;
  if (state->records_fd < 0) return EBADF;
  memset(&key, 0, sizeof key);
  key.family = (uint8_t)family;
  key.local_port = local_port;
  key.remote_port = remote_port;
  key.initial_sequence = initial_sequence;
  memcpy(key.local, local, address_bytes);
  memcpy(key.remote, remote, address_bytes);
  return bpf_map_lookup_elem(state->records_fd, &key, record) == 0 ? 0 : errno;
}

static int read_counters(const struct connect_owner_state *state, double *result) {
  static uint64_t per_cpu[MAX_CPUS];
  int cpus = libbpf_num_possible_cpus();
  if (state->counters_fd < 0) return EBADF;
  if (cpus <= 0 || cpus > MAX_CPUS) return E2BIG;
  for (uint32_t counter = 0; counter < CONNECT_COUNTER_COUNT; counter++) {
    if (bpf_map_lookup_elem(state->counters_fd, &counter, per_cpu) != 0) return errno;
    result[counter] = 0;
    for (int cpu = 0; cpu < cpus; cpu++) result[counter] += (double)per_cpu[cpu];
  }
  return 0;
}

/* Node-API glue. Argument checks throw: a wrong argument is a programmer error. */

static napi_value errno_value(napi_env env, int error) {
  napi_value value;
  napi_create_uint32(env, (uint32_t)error, &value);
  return value;
}

static napi_value open_export(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  struct connect_owner_state *state;
  char path[4096];
  char message[MESSAGE_BYTES] = "";
  size_t path_length, filter_length;
  void *filter;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok
      || napi_get_instance_data(env, (void **)&state) != napi_ok) return NULL;
  if (argc != 2
      || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_length) != napi_ok
      || path_length == 0 || path_length >= sizeof path - 1
      || !typed_array(env, argv[1], napi_uint8_array, &filter, &filter_length)
      || filter_length != sizeof(struct connect_filter)) {
    napi_throw_type_error(env, NULL, "open(objectPath, Uint8Array(connect filter size))");
    return NULL;
  }
  open_object(state, path, filter, message);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &result);
  return result;
}

static napi_value look_up_export(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  struct connect_owner_state *state;
  uint32_t family, initial_sequence;
  uint16_t local_port, remote_port;
  void *local, *remote, *record;
  size_t local_length, remote_length, record_length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok
      || napi_get_instance_data(env, (void **)&state) != napi_ok) return NULL;
  if (argc != 7 || napi_get_value_uint32(env, argv[0], &family) != napi_ok
      || (family != 4 && family != 6)
      || !typed_array(env, argv[1], napi_uint8_array, &local, &local_length)
      || !port(env, argv[2], &local_port)
      || !typed_array(env, argv[3], napi_uint8_array, &remote, &remote_length)
      || !port(env, argv[4], &remote_port)
      || napi_get_value_uint32(env, argv[5], &initial_sequence) != napi_ok
      || !typed_array(env, argv[6], napi_uint8_array, &record, &record_length)
      || local_length != (family == 4 ? IPV4_BYTES : IPV6_BYTES)
      || remote_length != local_length || record_length < sizeof(struct connect_record)) {
    napi_throw_type_error(env, NULL, "lookUp(family 4|6, Uint8Array, port, Uint8Array, port, "
                          "sequence, Uint8Array(record size)): address sizes must match the "
                          "family");
    return NULL;
  }
  return errno_value(env, look_up(state, (int)family, local, local_port, remote, remote_port,
                                  initial_sequence, record));
}

static napi_value counters_export(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  struct connect_owner_state *state;
  void *result;
  size_t result_length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok
      || napi_get_instance_data(env, (void **)&state) != napi_ok) return NULL;
  if (argc != 1 || !typed_array(env, argv[0], napi_float64_array, &result, &result_length)
      || result_length < CONNECT_COUNTER_COUNT) {
    napi_throw_type_error(env, NULL, "counters(Float64Array(counter count))");
    return NULL;
  }
  return errno_value(env, read_counters(state, result));
}

static napi_value close_export(napi_env env, napi_callback_info info) {
  struct connect_owner_state *state;
  (void)info;
  if (napi_get_instance_data(env, (void **)&state) == napi_ok) close_object(state);
  return NULL;
}

static napi_value constants_export(napi_env env) {
  napi_value constants, value;
  napi_create_object(env, &constants);
  napi_create_uint32(env, sizeof(struct connect_record), &value);
  napi_set_named_property(env, constants, "recordBytes", value);
  napi_create_uint32(env, CONNECT_COUNTER_COUNT, &value);
  napi_set_named_property(env, constants, "counterCount", value);
  napi_create_uint32(env, sizeof(struct connect_filter), &value);
  napi_set_named_property(env, constants, "filterBytes", value);
  return constants;
}

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  close_object(data);
  free(data);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor exported[] = {
    {"open", NULL, open_export, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lookUp", NULL, look_up_export, NULL, NULL, NULL, napi_enumerable, NULL},
    {"counters", NULL, counters_export, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, close_export, NULL, NULL, NULL, napi_enumerable, NULL},
    {"constants", NULL, NULL, NULL, NULL, constants_export(env), napi_enumerable, NULL},
  };
  struct connect_owner_state *state = calloc(1, sizeof *state);
  if (state == NULL) return NULL;
  state->records_fd = -1;
  state->counters_fd = -1;
  if (napi_set_instance_data(env, state, finalize_state, NULL) != napi_ok) {
    free(state);
    return NULL;
  }
  napi_define_properties(env, exports, sizeof exported / sizeof exported[0], exported);
  return exports;
}
