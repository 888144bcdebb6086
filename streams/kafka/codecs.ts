// Compression codecs, in ONE explicit table (after kafkajs' own codec registry). kafkajs ships
// gzip only; LZ4 comes from lz4js, a pure-JS implementation of the LZ4 *frame* format that Kafka
// expects, so nothing native has to be built or downloaded. Registration mutates kafkajs' global
// codec table, so it is done once, here, before any producer or consumer is created.
import kafkajs from 'kafkajs';
import * as lz4 from 'lz4js';
import { createRequire } from 'node:module';

// lz4js' frame writer lets blocks reference earlier blocks (one hash table per frame), which
// Kafka refuses ("Dependent block stream is unsupported"): we write the frame ourselves from its
// block compressor, with a fresh hash table per block and the block-independence flag set.
const require = createRequire(import.meta.url);
const lz4Block = require('lz4js') as {
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
};
const xxh32 = require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, len: number): number };
const BLOCK_MAX = 4 << 20; // BD 0x70: 4 MiB blocks
const FLG = 0x60; // version 01, block independence; no checksums, no content size
const BD = 0x70;
const HC = (xxh32.hash(0, Uint8Array.of(FLG, BD), 0, 2) >>> 8) & 0xff;

function lz4CompressFrame(src: Uint8Array): Buffer {
  const bound = src.length + Math.ceil(src.length / 255) + 16 * Math.ceil(src.length / BLOCK_MAX + 1) + 16;
  const dst = Buffer.allocUnsafe(bound);
  dst.writeUInt32LE(0x184d2204, 0);
  dst[4] = FLG;
  dst[5] = BD;
  dst[6] = HC;
  let d = 7;
  const block = Buffer.allocUnsafe(Math.min(BLOCK_MAX, src.length) + Math.ceil(Math.min(BLOCK_MAX, src.length) / 255) + 16);
  const table = new Uint32Array(1 << 16);
  for (let s = 0; s < src.length; s += BLOCK_MAX) {
    const len = Math.min(BLOCK_MAX, src.length - s);
    table.fill(0);
    const c = lz4Block.compressBlock(src, block, s, len, table);
    if (c === 0 || c >= len) {
      dst.writeUInt32LE((0x80000000 | len) >>> 0, d);
      d += 4;
      dst.set(src.subarray(s, s + len), d);
      d += len;
    } else {
      dst.writeUInt32LE(c, d);
      d += 4;
      block.copy(dst, d, 0, c);
      d += c;
    }
  }
  dst.writeUInt32LE(0, d);
  d += 4;
  return dst.subarray(0, d);
}

const { CompressionCodecs, CompressionTypes } = kafkajs;

export type CompressionName = 'none' | 'gzip' | 'lz4';

export const COMPRESSION: Record<CompressionName, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  lz4: CompressionTypes.LZ4,
};

interface Encoder {
  buffer: Buffer;
}

function lz4Codec() {
  return {
    async compress(encoder: Encoder): Promise<Buffer> {
      return lz4CompressFrame(encoder.buffer);
    },
    async decompress(buffer: Buffer): Promise<Buffer> {
      const out = lz4.decompress(buffer);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    },
  };
}

let registered = false;

export function registerCodecs(): void {
  if (registered) return;
  (CompressionCodecs as Record<number, unknown>)[CompressionTypes.LZ4] = lz4Codec;
  registered = true;
}
