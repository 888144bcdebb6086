// A capture cut in the middle of a packet: readBatch reports the file, packet index and byte
// offset, and the flows decoded before the damage are still delivered (batch + flush).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSensor, endedFlows, type CaptureErrorInfo } from '../../sensor/src/native.js';
import type { FlowRecord } from '../../streams/schema.js';
import { NDPI_PCAPS, options, runFiles } from './helpers.js';

const SRC = join(NDPI_PCAPS, '1kxun.pcap');

/** Byte offsets of each record of a classic pcap file. */
function recordOffsets(buf: Buffer): number[] {
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  const out: number[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    out.push(off);
    const incl = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
    off += 16 + incl;
  }
  return out;
}

test('truncated capture: error names file, packet index and offset; earlier flows survive', async (t) => {
  if (!existsSync(SRC)) { t.skip(`${SRC}: /work/shared/data/ndpi absent`); return; }
  const buf = readFileSync(SRC);
  const offs = recordOffsets(buf);
  const K = Math.min(1000, offs.length - 2);
  const dir = mkdtempSync(join(tmpdir(), 'dfly-trunc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cut = join(dir, 'cut.pcap');
  const clean = join(dir, 'clean.pcap');
  // cut inside packet K's data (after its 16-byte record header + 10 bytes)
  writeFileSync(cut, buf.subarray(0, offs[K]! + 16 + 10));
  writeFileSync(clean, buf.subarray(0, offs[K]!));

  const s = new FileSensor(options());
  s.open(cut);
  const flows: FlowRecord[] = [];
  let err: CaptureErrorInfo | undefined;
  let packets = 0;
  for (;;) {
    const b = await s.readBatch(300); // several batches before the damage
    flows.push(...endedFlows(b));
    packets += b.packets;
    if (b.error) err = b.error;
    if (b.done) break;
  }
  assert.ok(err, 'an error is reported');
  assert.equal(err.file, cut);
  assert.equal(err.packetIndex, K);
  assert.ok(err.byteOffset > offs[K]! && err.byteOffset <= offs[K]! + 26, `byteOffset ${err.byteOffset}`);
  assert.match(err.message, /truncated/i);
  assert.equal(packets, K);
  flows.push(...s.flush());
  assert.equal(s.stats().capture_errors, 1);

  const ref = (await runFiles([clean])).flows;
  const total = (fs: typeof flows) => fs.reduce((a, f) => a + f.spkts + f.dpkts, 0);
  assert.ok(total(ref) > 0);
  assert.equal(total(flows), total(ref));
  assert.equal(flows.length, ref.length);
});

test('files that are not captures give a one-line CaptureOpenError naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfly-bad-'));
  try {
    const bad = join(dir, 'notes.txt');
    writeFileSync(bad, 'this is not a capture\n'.repeat(10));
    const s = new FileSensor(options());
    assert.throws(() => s.open(bad), (e: Error) => e.name === 'CaptureOpenError' && e.message.includes(bad) && !e.message.includes('\n'));
    assert.throws(() => s.open(join(dir, 'missing.pcap')), /missing\.pcap/);
    // the sensor stays usable
    assert.deepEqual(s.flush(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
