/*
 * Exact lookup of one TCP socket through netlink sock_diag (sock_diag(7), linux/inet_diag.h).
 * A SOCK_DIAG_BY_FAMILY request without NLM_F_DUMP whose inet_diag_sockid names a four-tuple
 * makes the kernel look that socket up in its hash tables (inet_diag_find_one_icsk(),
 * net/ipv4/inet_diag.c) and answer with one inet_diag_msg, or with an NLMSG_ERROR carrying
 * -ENOENT. It costs microseconds; /proc/net/tcp walks the whole established hash to be written.
 *
 * A netlink socket sees the network namespace it was created in: here, the process's own.
 *
 * Exports:
 *   lookUp(family, localAddress, localPort, remoteAddress, remotePort, result) -> errno
 *     family 4 or 6; addresses are Uint8Arrays of 4 or 16 bytes in network order; result is a
 *     Uint32Array of 3 that receives [inode, uid, state] when 0 is returned. ENOENT means no
 *     socket has that four-tuple; any other errno is a failure of the lookup itself. Throws
 *     only on arguments of the wrong type or size. Never answers with a listening socket: when
 *     no socket has the four-tuple the kernel's lookup goes on to the listener of the local
 *     port, and that reply is refused (ENOENT).
 *   lookUpListener(family, localAddress, localPort, result) -> errno
 *     The socket listening for new connections to localAddress:localPort, as the kernel picks
 *     it for an incoming SYN: bound to that address, or else to the wildcard (0.0.0.0, or ::;
 *     for IPv4 also an IPv6 socket on :: that is not IPV6_V6ONLY). Asked as the four-tuple
 *     with remote 0.0.0.0:0 (or ::, port 0), which no connection has, so that the kernel's
 *     lookup always reaches its listener lookup; the reply is taken only when it is in
 *     TCP_LISTEN on that port and bound to that address or the wildcard. result and errors as
 *     for lookUp; ENOENT when nothing listens there.
 *   close() -> undefined
 *     Closes the netlink socket; the next lookUp opens another.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <node_api.h>
#include "node_api_arguments.h"

/*
 * A reply is one nlmsghdr and inet_diag_msg (88 bytes: no extension is asked for), or an
 * NLMSG_ERROR that quotes the request (16 + 4 + 88 bytes). A larger datagram is an error.
 */
#define RECEIVE_BUFFER_BYTES 4096
/* Replies to earlier requests (one that timed out) skipped before the lookup gives up. */
#define MAX_STALE_REPLIES 8
/* The kernel queues the reply before send() returns; this only bounds a reply that was lost. */
#define RECEIVE_TIMEOUT_MICROSECONDS 100000
#define IPV4_BYTES 4
#define IPV6_BYTES 16
#define RESULT_LENGTH 3
/* include/net/tcp_states.h */
#define STATE_LISTEN 10

/* ::ffff:0:0/96, RFC 4291 section 2.5.5.2: how an IPv6 socket holds an IPv4 connection. */
static const uint8_t IPV4_MAPPED_PREFIX[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
/* 0.0.0.0 or ::, and port 0: the remote end of a listener, and of no connection. */
static const uint8_t ANY_ADDRESS[IPV6_BYTES] = {0};

/* Whether a reply is the socket the request asked for; see is_requested, is_listener_for. */
typedef int (*reply_filter)(const struct inet_diag_req_v2 *request,
                            const struct inet_diag_msg *reply);

/* One per Node environment (the main thread, each worker), so threads never share a socket. */
struct sock_diag_state {
  int fd;
  uint32_t sequence;
};

struct lookup_request {
  struct nlmsghdr header;
  struct inet_diag_req_v2 body;
};

/* 0, or the errno of socket(): EPROTONOSUPPORT when the kernel has no sock_diag. */
static int open_socket(struct sock_diag_state *state) {
  struct timeval timeout = {0, RECEIVE_TIMEOUT_MICROSECONDS};
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return errno;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0
      || connect(fd, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    int error = errno;
    close(fd);
    return error;
  }
  state->fd = fd;
  return 0;
}

static void close_socket(struct sock_diag_state *state) {
  if (state->fd >= 0) close(state->fd);
  state->fd = -1;
}

/* An address of either family as 16 bytes, IPv4 as IPv4-mapped, to compare across families. */
static void as_ipv6(uint8_t family, const void *address, uint8_t out[IPV6_BYTES]) {
  if (family == AF_INET) {
    memcpy(out, IPV4_MAPPED_PREFIX, sizeof IPV4_MAPPED_PREFIX);
    memcpy(out + sizeof IPV4_MAPPED_PREFIX, address, IPV4_BYTES);
  } else {
    memcpy(out, address, IPV6_BYTES);
  }
}

/*
 * When no connected socket matches, the kernel's lookup goes on to listening sockets (the
 * lookup of an incoming segment, inet_lookup()), so a reply is taken only if its four-tuple is
 * the one asked for, and never when it is a listener (whose remote end, 0.0.0.0:0, a request
 * with port 0 would match): a listener is asked for on purpose, by lookUpListener. The reply's
 * family is the socket's: AF_INET6 for an IPv6 socket that holds an IPv4 connection as
 * IPv4-mapped addresses, which the kernel finds for an AF_INET request.
 */
static int is_requested(const struct inet_diag_req_v2 *request, const struct inet_diag_msg *reply) {
  uint8_t asked[IPV6_BYTES], found[IPV6_BYTES];
  if (reply->idiag_state == STATE_LISTEN) return 0;
  if (request->id.idiag_sport != reply->id.idiag_sport
      || request->id.idiag_dport != reply->id.idiag_dport) return 0;
  as_ipv6(request->sdiag_family, request->id.idiag_src, asked);
  as_ipv6(reply->idiag_family, reply->id.idiag_src, found);
  if (memcmp(asked, found, IPV6_BYTES) != 0) return 0;
  as_ipv6(request->sdiag_family, request->id.idiag_dst, asked);
  as_ipv6(reply->idiag_family, reply->id.idiag_dst, found);
  return memcmp(asked, found, IPV6_BYTES) == 0;
}

/* Whether the reply's local address is the wildcard of its family: 0.0.0.0 or ::. */
static int is_wildcard(const struct inet_diag_msg *reply) {
  size_t bytes = reply->idiag_family == AF_INET ? IPV4_BYTES : IPV6_BYTES;
  return memcmp(reply->id.idiag_src, ANY_ADDRESS, bytes) == 0;
}

/*
 * The listener the kernel picked for the request's local address and port: in TCP_LISTEN, on
 * that port, bound to that address (IPv4-mapped for an IPv6 socket bound to an IPv4 address)
 * or to the wildcard. The kernel's IPv4 lookup only offers an IPv6 wildcard socket that
 * accepts IPv4 (not IPV6_V6ONLY); these checks keep anything else out all the same.
 */
static int is_listener_for(const struct inet_diag_req_v2 *request,
                           const struct inet_diag_msg *reply) {
  uint8_t asked[IPV6_BYTES], found[IPV6_BYTES];
  if (reply->idiag_state != STATE_LISTEN
      || request->id.idiag_sport != reply->id.idiag_sport) return 0;
  if (is_wildcard(reply)) return 1;
  as_ipv6(request->sdiag_family, request->id.idiag_src, asked);
  as_ipv6(reply->idiag_family, reply->id.idiag_src, found);
  return memcmp(asked, found, IPV6_BYTES) == 0;
}

/* 0 with result filled, or an errno: the kernel's (ENOENT: no such socket), or EPROTO. */
static int read_reply(const struct nlmsghdr *header, const struct inet_diag_req_v2 *request,
                      reply_filter is_wanted, uint32_t result[RESULT_LENGTH]) {
  if (header->nlmsg_type == NLMSG_ERROR) {
    const struct nlmsgerr *error = NLMSG_DATA(header);
    if (header->nlmsg_len < NLMSG_LENGTH(sizeof *error) || error->error >= 0) return EPROTO;
    return -error->error;
  }
  if (header->nlmsg_type != SOCK_DIAG_BY_FAMILY
      || header->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) return EPROTO;
  const struct inet_diag_msg *socket = NLMSG_DATA(header);
  if (!is_wanted(request, socket)) return ENOENT;
  result[0] = socket->idiag_inode;
  result[1] = socket->idiag_uid;
  result[2] = socket->idiag_state;
  return 0;
}

/* Receives until the reply with the request's sequence number; bounded by MAX_STALE_REPLIES. */
static int receive_reply(struct sock_diag_state *state, const struct lookup_request *request,
                         reply_filter is_wanted, uint32_t result[RESULT_LENGTH]) {
  _Alignas(struct nlmsghdr) uint8_t buffer[RECEIVE_BUFFER_BYTES];
  for (int attempt = 0; attempt <= MAX_STALE_REPLIES; attempt++) {
    ssize_t length = recv(state->fd, buffer, sizeof buffer, MSG_TRUNC);
    if (length < 0 && errno == EINTR) continue;
    if (length < 0) return errno;
    if ((size_t)length > sizeof buffer) return EMSGSIZE;
    int remaining = (int)length;
    for (const struct nlmsghdr *header = (const struct nlmsghdr *)buffer;
         NLMSG_OK(header, remaining); header = NLMSG_NEXT(header, remaining)) {
      if (header->nlmsg_seq == request->header.nlmsg_seq) {
        return read_reply(header, &request->body, is_wanted, result);
      }
    }
  }
  return EPROTO;
}

static int query(struct sock_diag_state *state, uint8_t family, const uint8_t *local,
                 uint16_t local_port, const uint8_t *remote, uint16_t remote_port,
                 reply_filter is_wanted, uint32_t result[RESULT_LENGTH]) {
  size_t bytes = family == AF_INET ? IPV4_BYTES : IPV6_BYTES;
  struct lookup_request request;
  memset(&request, 0, sizeof request);
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST; /* no NLM_F_DUMP: the exact-match lookup */
  request.header.nlmsg_seq = ++state->sequence;
  request.body.sdiag_family = family;
  request.body.sdiag_protocol = IPPROTO_TCP;
  request.body.idiag_states = ~0U;
  request.body.id.idiag_sport = htons(local_port);
  request.body.id.idiag_dport = htons(remote_port);
  memcpy(request.body.id.idiag_src, local, bytes);
  memcpy(request.body.id.idiag_dst, remote, bytes);
  request.body.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  request.body.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  ssize_t sent;
  do sent = send(state->fd, &request, sizeof request, 0); while (sent < 0 && errno == EINTR);
  if (sent < 0) return errno;
  return receive_reply(state, &request, is_wanted, result);
}

/* Opens the netlink socket if it is not open: 0, or the errno of opening it. */
static int ensure_open(struct sock_diag_state *state) {
  return state->fd >= 0 ? 0 : open_socket(state);
}

/* After a failure other than "no such socket", the next lookup starts on a new socket. */
static int finish(struct sock_diag_state *state, int error) {
  if (error != 0 && error != ENOENT) close_socket(state);
  return error;
}

/*
 * An IPv4 connection not found as such is asked for again as IPv4-mapped AF_INET6. IPv4 and
 * IPv6 TCP sockets share one established hash, so on Linux 6.18 the AF_INET request already
 * finds an IPv6 socket that holds the connection (the reply then says AF_INET6); the second
 * request costs a few microseconds, on misses only.
 */
static int look_up(struct sock_diag_state *state, int family, const uint8_t *local,
                   uint16_t local_port, const uint8_t *remote, uint16_t remote_port,
                   uint32_t result[RESULT_LENGTH]) {
  int error = ensure_open(state);
  if (error != 0) return error;
  if (family == 6) {
    error = query(state, AF_INET6, local, local_port, remote, remote_port, is_requested, result);
  } else {
    error = query(state, AF_INET, local, local_port, remote, remote_port, is_requested, result);
    if (error == ENOENT) {
      uint8_t mapped_local[IPV6_BYTES], mapped_remote[IPV6_BYTES];
      as_ipv6(AF_INET, local, mapped_local);
      as_ipv6(AF_INET, remote, mapped_remote);
      error = query(state, AF_INET6, mapped_local, local_port, mapped_remote, remote_port,
                    is_requested, result);
    }
  }
  return finish(state, error);
}

/*
 * One request: the kernel's IPv4 listener lookup already considers IPv6 sockets that accept
 * IPv4 (on ::, not IPV6_V6ONLY, or bound to an IPv4-mapped address), and an IPv4-mapped
 * AF_INET6 request is looked up as IPv4 (inet_diag_find_one_icsk()), so it would add nothing.
 */
static int look_up_listener(struct sock_diag_state *state, int family, const uint8_t *local,
                            uint16_t local_port, uint32_t result[RESULT_LENGTH]) {
  int error = ensure_open(state);
  if (error != 0) return error;
  error = query(state, family == 6 ? AF_INET6 : AF_INET, local, local_port, ANY_ADDRESS, 0,
                is_listener_for, result);
  return finish(state, error);
}

/* Node-API glue. Argument checks throw: a wrong argument is a programmer error. */

static napi_value look_up_export(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  struct sock_diag_state *state;
  uint32_t family;
  uint16_t local_port, remote_port;
  void *local, *remote, *result;
  size_t local_length, remote_length, result_length;
  napi_value errno_value;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok
      || napi_get_instance_data(env, (void **)&state) != napi_ok) return NULL;
  if (argc != 6 || napi_get_value_uint32(env, argv[0], &family) != napi_ok
      || (family != 4 && family != 6)
      || !typed_array(env, argv[1], napi_uint8_array, &local, &local_length)
      || !port(env, argv[2], &local_port)
      || !typed_array(env, argv[3], napi_uint8_array, &remote, &remote_length)
      || !port(env, argv[4], &remote_port)
      || !typed_array(env, argv[5], napi_uint32_array, &result, &result_length)
      || local_length != (family == 4 ? IPV4_BYTES : IPV6_BYTES)
      || remote_length != local_length || result_length < RESULT_LENGTH) {
    napi_throw_type_error(env, NULL, "lookUp(family 4|6, Uint8Array, port, Uint8Array, port, "
                          "Uint32Array(3)): address sizes must match the family");
    return NULL;
  }
  int error = look_up(state, (int)family, local, local_port, remote, remote_port, result);
  napi_create_uint32(env, (uint32_t)error, &errno_value);
  return errno_value;
}

static napi_value look_up_listener_export(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  struct sock_diag_state *state;
  uint32_t family;
  uint16_t local_port;
  void *local, *result;
  size_t local_length, result_length;
  napi_value errno_value;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok
      || napi_get_instance_data(env, (void **)&state) != napi_ok) return NULL;
  if (argc != 4 || napi_get_value_uint32(env, argv[0], &family) != napi_ok
      || (family != 4 && family != 6)
      || !typed_array(env, argv[1], napi_uint8_array, &local, &local_length)
      || !port(env, argv[2], &local_port)
      || !typed_array(env, argv[3], napi_uint32_array, &result, &result_length)
      || local_length != (family == 4 ? IPV4_BYTES : IPV6_BYTES)
      || result_length < RESULT_LENGTH) {
    napi_throw_type_error(env, NULL, "lookUpListener(family 4|6, Uint8Array, port, "
                          "Uint32Array(3)): the address size must match the family");
    return NULL;
  }
  int error = look_up_listener(state, (int)family, local, local_port, result);
  napi_create_uint32(env, (uint32_t)error, &errno_value);
  return errno_value;
}

static napi_value close_export(napi_env env, napi_callback_info info) {
  struct sock_diag_state *state;
  (void)info;
  if (napi_get_instance_data(env, (void **)&state) == napi_ok) close_socket(state);
  return NULL;
}

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  close_socket(data);
  free(data);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor exported[] = {
    {"lookUp", NULL, look_up_export, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lookUpListener", NULL, look_up_listener_export, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, close_export, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  struct sock_diag_state *state = malloc(sizeof *state);
  if (state == NULL) return NULL;
  state->fd = -1;
  state->sequence = 0;
  if (napi_set_instance_data(env, state, finalize_state, NULL) != napi_ok) {
    free(state);
    return NULL;
  }
  napi_define_properties(env, exports, sizeof exported / sizeof exported[0], exported);
  return exports;
}
