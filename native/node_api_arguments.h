/*
 * Argument checks shared by the addons (sock-diag, connect-owner): each returns 1 when the
 * value is what the function asked for, else 0, and the caller throws a TypeError, since a
 * wrong argument is a programmer error.
 */
#ifndef NODE_API_ARGUMENTS_H
#define NODE_API_ARGUMENTS_H

#include <stdint.h>
#include <node_api.h>

/* A typed array of `type`: its data and length in elements. */
static inline int typed_array(napi_env env, napi_value value, napi_typedarray_type type,
                              void **data, size_t *length) {
  bool is_typed_array = false;
  napi_typedarray_type actual;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return 0;
  if (napi_get_typedarray_info(env, value, &actual, length, data, NULL, NULL) != napi_ok) return 0;
  return actual == type;
}

/* A TCP port: a whole number from 0 to 65535. */
static inline int port(napi_env env, napi_value value, uint16_t *out) {
  uint32_t number;
  if (napi_get_value_uint32(env, value, &number) != napi_ok || number > 0xffff) return 0;
  *out = (uint16_t)number;
  return 1;
}

#endif
