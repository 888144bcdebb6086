// Benchmark: Kafka batch compression — @platformatic/kafka's own LZ4 (WebAssembly) against ours
// (liblz4 through the streams addon, streams/kafka/compression.ts), and zstd (ours; the client's
// needs Node 22), on the Arrow messages the producer sends: flow and DNS batches of 2,048 rows
// made by bench/records.ts. Figures: MB/s of uncompressed bytes, compress and decompress, and the
// compressed size. Each codec's output is checked to decompress to the input.
// Usage: node dist/bench/kafka-compression.js [--rounds 200]
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { compressionsAlgorithms } from '@platformatic/kafka';
import { encodeArrow } from '../streams/events/arrow.js';
import { EventBatch } from '../streams/events/batch.js';
import { installCompression } from '../streams/kafka/compression.js';
import { arg, machineLine, median } from './harness.js';
import { recordMaker } from './records.js';

const ROUNDS = Number(arg('rounds', '200'));

type Fn = (b: Buffer) => Buffer;
const table = compressionsAlgorithms as unknown as Record<'lz4' | 'zstd', { compressSync: Fn; decompressSync: Fn }>;
// The client's own LZ4, taken before ours replaces it.
const theirs = { compress: table.lz4.compressSync, decompress: table.lz4.decompressSync };
installCompression();
const codecs: Record<string, { compress: Fn; decompress: Fn }> = {
  'lz4 @platformatic (wasm)': theirs,
  'lz4 ours (liblz4)': { compress: table.lz4.compressSync, decompress: table.lz4.decompressSync },
  'zstd ours (libzstd, level 3)': { compress: table.zstd.compressSync, decompress: table.zstd.decompressSync },
};

function mbps(bytes: number, f: () => void): number[] {
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    f();
    out.push(bytes / ((performance.now() - t0) * 1000));
  }
  return out.slice(Math.floor(ROUNDS / 10)); // warm-up dropped
}

const make = recordMaker(42);
console.log(`kafka-compression: ${machineLine()}; ${ROUNDS} rounds, median MB/s of uncompressed bytes`);
for (const type of ['flow', 'dns'] as const) {
  const batch = EventBatch.fromRows(type, Array.from({ length: 2048 }, (_, i) => make[type](i)));
  const msg = Buffer.from(encodeArrow(batch));
  console.log(`\n${type}: Arrow message of 2,048 rows, ${msg.length.toLocaleString('en')} bytes`);
  const figures: Record<string, { c: number; d: number }> = {};
  for (const [name, c] of Object.entries(codecs)) {
    const packed = c.compress(msg);
    assert.deepEqual(c.decompress(packed), msg, `${name} round trip`);
    const comp = median(mbps(msg.length, () => c.compress(msg)));
    const dec = median(mbps(msg.length, () => c.decompress(packed)));
    figures[name] = { c: comp, d: dec };
    console.log(`  ${name.padEnd(30)} compress ${comp.toFixed(0).padStart(6)} MB/s  decompress ${dec.toFixed(0).padStart(6)} MB/s  size ${(packed.length / msg.length * 100).toFixed(1)}%`);
  }
  const a = figures['lz4 ours (liblz4)']!;
  const b = figures['lz4 @platformatic (wasm)']!;
  console.log(`  lz4 ours / wasm: compress ${(a.c / b.c).toFixed(2)}x, decompress ${(a.d / b.d).toFixed(2)}x`);
}
