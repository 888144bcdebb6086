// Capture input streams for libpcap: standard input (`-`) and gzip- or zstd-compressed capture
// files, recognised by their magic bytes (not the file name), decompressed as libpcap reads them
// through a stdio FILE (fopencookie). Plain files return null: the caller opens them itself (and
// may map them). Memory: the decoder's state and a 256 KiB input buffer per open stream.
#pragma once
#include <cstdio>
#include <string>

namespace dfly {

/**
 * Opens `path` ("-" = standard input) as a stream libpcap can read: decompressing when the data
 * starts with the gzip or zstd magic. Returns null with *err empty for a plain file (open it as
 * usual), or null with *err set when it cannot be opened. *kind says what was found: "stdin",
 * "gzip", "zstd" or "" (plain).
 */
FILE* open_capture_stream(const std::string& path, std::string* err, std::string* kind);

}  // namespace dfly
