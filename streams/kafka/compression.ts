// Kafka batch compression through the streams addon (streams/native): LZ4 frames and zstd by
// liblz4/libzstd instead of @platformatic/kafka's WebAssembly LZ4 (which was 8% of the sensor's CPU
// publishing a capture) and its zstd, which needs Node 22's zlib. The client reads its codecs from
// the table it exports (compressionsAlgorithms, keyed by name and by the record batch's bitmask);
// installCompression() puts ours in that table once, before any client is made. Frames are the
// standard ones Kafka's Java client and librdkafka write and read (LZ4: independent 64 KiB blocks).
import { compressionsAlgorithms } from '@platformatic/kafka';
import { Buffer } from 'node:buffer';
import { streamsNative } from '../native.js';

/** The most a compressed record batch may expand to (a bound against decompression bombs). */
export const MAX_DECOMPRESSED_BYTES = 1 << 30;

interface Codec {
  compressSync(data: unknown): Buffer;
  decompressSync(data: unknown): Buffer;
  available?: boolean;
}

let installed = false;

/** Bytes of a Buffer or of @platformatic/dynamic-buffer's DynamicBuffer (its `buffer` joins the chunks). */
function bytesOf(data: unknown): Buffer {
  return Buffer.isBuffer(data) ? data : (data as { buffer: Buffer }).buffer;
}

export function installCompression(): void {
  if (installed) return;
  const n = streamsNative();
  const table = compressionsAlgorithms as unknown as Record<'lz4' | 'zstd', Codec>;
  table.lz4.compressSync = (d) => n.lz4Compress(bytesOf(d));
  table.lz4.decompressSync = (d) => n.lz4Decompress(bytesOf(d), MAX_DECOMPRESSED_BYTES);
  table.zstd.compressSync = (d) => n.zstdCompress(bytesOf(d), 3);
  table.zstd.decompressSync = (d) => n.zstdDecompress(bytesOf(d), MAX_DECOMPRESSED_BYTES);
  table.zstd.available = true;
  installed = true;
}
