{
  "targets": [
    {
      "target_name": "damselfly_native",
      "sources": [
        "src/binding.cc",
        "src/binding_live.cc",
        "src/columns.cc",
        "src/core/live_pcap.cc",
        "src/core/live_afpacket.cc",
        "src/core/sha1.cc",
        "src/core/community_id.cc",
        "src/core/decode.cc",
        "src/core/fragments.cc",
        "src/core/features.cc",
        "src/core/flow_table.cc",
        "src/core/format.cc",
        "src/core/engine.cc",
        "src/core/pcap_file.cc",
        "src/core/capture_stream.cc",
        "src/core/ndpi.cc",
        "src/core/ndpi_fingerprint.cc",
        "src/core/digest.cc",
        "src/core/l7/registry.cc",
        "src/core/l7/dns.cc",
        "src/core/l7/tls.cc",
        "src/core/l7/http.cc",
        "src/core/l7/ja3.cc",
        "src/core/l7/ja4.cc",
        "src/core/l7/quic.cc",
        "src/core/l7/quic_crypto.cc",
        "src/core/l7/dtls.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags": ["<!@(pkg-config --cflags libndpi)"],
      "libraries": ["-lpcap", "-lz", "-lzstd", "-lcrypto", "<!@(pkg-config --libs libndpi)"]
    }
  ]
}
