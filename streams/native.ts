// Loads the streams addon (streams/native, built by scripts/build-native.sh): the row gathers the
// Arrow encoder uses when it splits a batch per partition, and Kafka's LZ4/zstd batch compression.
import { addonPath, requireAddon } from './addon.js';

export interface StreamsNative {
  /** dst[at + width·i …] = element rows[i] of src (elements of `width` bytes). */
  takeFixed(dst: Uint8Array, at: number, src: ArrayBufferView, width: 1 | 2 | 4 | 8, rows: Int32Array): void;
  /** The bytes of value rows[i] (src[offsets[r] - first, offsets[r + 1] - first)) back to back at dst[at]; returns the bytes written. */
  takeValues(dst: Uint8Array, at: number, src: Uint8Array, offsets: Int32Array, first: number, rows: Int32Array): number;
  /** One LZ4 frame (independent 64 KiB blocks, no checksums: what Kafka's clients write). */
  lz4Compress(src: Uint8Array): Buffer;
  lz4Decompress(src: Uint8Array, maxOut?: number): Buffer;
  zstdCompress(src: Uint8Array, level?: number): Buffer;
  zstdDecompress(src: Uint8Array, maxOut?: number): Buffer;
}

let addon: StreamsNative | undefined;

export function streamsAddonPath(): string {
  return addonPath(['streams', 'native'], 'damselfly_streams');
}

export function streamsNative(): StreamsNative {
  return (addon ??= requireAddon<StreamsNative>(streamsAddonPath(), 'the streams addon'));
}
