// The streams addon (streams/native): row gathers equal a plain JS gather and refuse any index out
// of range; LZ4 frames and zstd round-trip, interoperate with the lz4 and zstd command-line tools,
// and refuse truncated, corrupt or oversized input with an error instead of garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamsNative } from '../../streams/native.js';

const n = streamsNative();

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('takeFixed gathers elements of 1, 2, 4 and 8 bytes exactly as a JS loop does', () => {
  const r = rng(1);
  for (const Ctor of [Uint8Array, Uint16Array, Int32Array, Float32Array, Float64Array] as const) {
    const src = new Ctor(1000);
    for (let i = 0; i < src.length; i++) src[i] = Ctor === Float64Array || Ctor === Float32Array ? r() * 1e6 - 5e5 : Math.floor(r() * 60000) - (Ctor === Int32Array ? 30000 : 0);
    const rows = Int32Array.from({ length: 333 }, () => Math.floor(r() * src.length));
    const w = src.BYTES_PER_ELEMENT as 1 | 2 | 4 | 8;
    const dst = Buffer.alloc(16 + w * rows.length, 0xee);
    n.takeFixed(dst, 16, src, w, rows);
    const got = new Ctor(dst.buffer.slice(dst.byteOffset + 16, dst.byteOffset + 16 + w * rows.length));
    assert.deepEqual(Array.from(got), Array.from(rows, (i) => src[i]!), Ctor.name);
    assert.ok(dst.subarray(0, 16).every((b) => b === 0xee), 'nothing written before `at`');
  }
});

test('takeValues copies each chosen value\'s bytes back to back', () => {
  const values = ['a', '', 'flow-123', 'x'.repeat(300), 'dns.example.com', '', 'zz'];
  const text = values.join('');
  const offsets = new Int32Array(values.length + 1);
  values.forEach((v, i) => (offsets[i + 1] = offsets[i]! + v.length));
  // A column slice: offsets start at 5 in a larger text.
  const shifted = offsets.map((o) => o + 5);
  const src = Buffer.from(text, 'latin1');
  const rows = Int32Array.from([3, 0, 6, 1, 4, 3]);
  const dst = Buffer.alloc(1000);
  const written = n.takeValues(dst, 7, src, shifted, 5, rows);
  const want = Array.from(rows, (i) => values[i]).join('');
  assert.equal(written, want.length);
  assert.equal(dst.toString('latin1', 7, 7 + written), want);
});

test('gathers refuse rows, offsets or room out of range (RangeError, nothing copied)', () => {
  const src = new Float64Array(10);
  const dst = Buffer.alloc(80);
  assert.throws(() => n.takeFixed(dst, 0, src, 8, Int32Array.from([0, 10])), RangeError);
  assert.throws(() => n.takeFixed(dst, 0, src, 8, Int32Array.from([-1])), RangeError);
  assert.throws(() => n.takeFixed(dst, 8, src, 8, new Int32Array(10)), /dst too small/);
  assert.throws(() => n.takeFixed(dst, 0, src, 3 as 4, new Int32Array(1)), /width/);
  const bytes = Buffer.from('abcdef', 'latin1');
  const offsets = Int32Array.from([0, 2, 4, 6]);
  assert.throws(() => n.takeValues(dst, 0, bytes, offsets, 0, Int32Array.from([3])), /row out of range/);
  assert.throws(() => n.takeValues(dst, 0, bytes, Int32Array.from([0, 2, 9]), 0, Int32Array.from([1])), /offsets out of range/);
  assert.throws(() => n.takeValues(dst, 0, bytes, offsets, 1, Int32Array.from([0])), /offsets out of range/);
  assert.throws(() => n.takeValues(Buffer.alloc(3), 0, bytes, offsets, 0, Int32Array.from([0, 1])), /dst too small/);
  assert.throws(() => n.takeValues(dst, 0, bytes, new Float64Array(4) as unknown as Int32Array, 0, Int32Array.from([0])), TypeError);
});

/** Text-like data that compresses, and noise that does not; sizes across LZ4's 64 KiB blocks. */
function samplesOf(): Buffer[] {
  const r = rng(7);
  const words = ['flowid', 'dns.example.com', '10.0.0.1', 'TLSv1.3', 'h2', 'GET /index.html'];
  const text = Buffer.from(Array.from({ length: 40000 }, () => words[Math.floor(r() * words.length)]).join(','), 'latin1');
  const noise = Buffer.from(Array.from({ length: 200_000 }, () => Math.floor(r() * 256)));
  return [Buffer.alloc(0), Buffer.from('a'), text, noise, Buffer.concat([text, noise, text])];
}

test('LZ4 frames and zstd round-trip; compressible data shrinks', () => {
  const all = samplesOf();
  for (const b of all) {
    const l = n.lz4Compress(b);
    assert.deepEqual(n.lz4Decompress(l), b, `lz4 ${b.length} bytes`);
    const z = n.zstdCompress(b, 3);
    assert.deepEqual(n.zstdDecompress(z), b, `zstd ${b.length} bytes`);
    if (b === all[2]) assert.ok(l.length < b.length / 3 && z.length < b.length / 3, `text shrinks: lz4 ${l.length}, zstd ${z.length} of ${b.length}`);
  }
});

test('the lz4 and zstd tools read our frames, and we read theirs (content checksums, unknown sizes, 4 MiB blocks)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'damselfly-codecs-'));
  try {
    const [, , text, noise] = samplesOf();
    const data = Buffer.concat([text!, noise!]);
    writeFileSync(join(dir, 'ours.lz4'), n.lz4Compress(data));
    execFileSync('lz4', ['-d', '-q', '-f', join(dir, 'ours.lz4'), join(dir, 'ours.out')]);
    assert.deepEqual(readFileSync(join(dir, 'ours.out')), data);
    writeFileSync(join(dir, 'ours.zst'), n.zstdCompress(data, 3));
    execFileSync('zstd', ['-d', '-q', '-f', join(dir, 'ours.zst'), '-o', join(dir, 'ours.zout')]);
    assert.deepEqual(readFileSync(join(dir, 'ours.zout')), data);
    // Theirs, from stdin (no content size in the header), lz4 with its defaults (4 MiB blocks, content checksum).
    const theirsLz4 = execFileSync('lz4', ['-q', '-c', '-'], { input: data, maxBuffer: 1 << 26 });
    assert.deepEqual(n.lz4Decompress(theirsLz4), data);
    const theirsZstd = execFileSync('zstd', ['-q', '-c', '-'], { input: data, maxBuffer: 1 << 26 });
    assert.deepEqual(n.zstdDecompress(theirsZstd), data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('truncated, corrupt or oversized input is refused', () => {
  const [, , text] = samplesOf();
  const l = n.lz4Compress(text!);
  const z = n.zstdCompress(text!, 3);
  assert.throws(() => n.lz4Decompress(l.subarray(0, l.length - 10)), /^Error: lz4: /);
  assert.throws(() => n.zstdDecompress(z.subarray(0, z.length - 10)), /^Error: zstd: /);
  assert.throws(() => n.lz4Decompress(Buffer.from('not an lz4 frame at all')), /^Error: lz4: /);
  assert.throws(() => n.zstdDecompress(Buffer.from('not a zstd frame at all')), /^Error: zstd: /);
  assert.throws(() => n.lz4Decompress(l, 100_000), /larger than 100000 bytes/);
  assert.throws(() => n.zstdDecompress(z, 100_000), /larger than 100000 bytes/);
});
