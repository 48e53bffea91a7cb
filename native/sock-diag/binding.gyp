{
  # Built by `npm run build:native` (node-gyp, against the headers of the Node that runs npm:
  # nodedir in the npm configuration). Output: build/Release/sock_diag.node, not committed.
  "targets": [
    {
      "target_name": "sock_diag",
      "sources": ["sock_diag.c"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8"],
      "include_dirs": [".."]
    }
  ]
}
