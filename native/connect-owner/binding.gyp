{
  # Built by `npm run build:native` (node-gyp). Output, not committed:
  # build/Release/connect_owner.node, the loader, linked with Debian's libbpf (libbpf-dev), and
  # build/Release/connect_owner.bpf.o, the BPF program, compiled by clang for the BPF target
  # with BTF (-g), which libbpf needs to relocate its field reads for the running kernel.
  "targets": [
    {
      "target_name": "connect_owner",
      "sources": ["connect_owner.c"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8"],
      "include_dirs": [".."],
      "libraries": ["-lbpf"],
      "actions": [
        {
          "action_name": "compile_bpf_program",
          "inputs": ["connect_owner.bpf.c", "connect_owner.h"],
          "outputs": ["<(PRODUCT_DIR)/connect_owner.bpf.o"],
          "action": ["clang", "-target", "bpf", "-O2", "-g", "-Wall", "-Werror",
                     "-I/usr/include/<!(gcc -print-multiarch)", "-c", "connect_owner.bpf.c",
                     "-o", "<(PRODUCT_DIR)/connect_owner.bpf.o"]
        }
      ]
    }
  ]
}
