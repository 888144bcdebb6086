// Classic pcap files are read through our own mapped reader (sensor/native/src/core/pcap_file.cc), other inputs and any
// file read with a BPF filter through libpcap. The two paths must agree: every variant of the
// format (big-endian, nanosecond magic, records longer than the file's snaplen) gives the same
// flows both ways, and damage gives libpcap's messages with the file position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCapture } from '../../synth/index.js';
import { FileSensor, endedFlows, type CaptureErrorInfo } from '../../sensor/src/native.js';
import type { FlowRecord } from '../../streams/schema.js';
import { options } from './helpers.js';

// A filter that keeps every packet: it sends the file through libpcap instead of the mapping.
const LIBPCAP = 'ip or not ip';

interface Read { flows: FlowRecord[]; packets: number; error?: CaptureErrorInfo }

async function read(file: string, filter?: string): Promise<Read> {
  const s = new FileSensor(options(filter ? { filter } : {}));
  s.open(file);
  const out: Read = { flows: [], packets: 0 };
  for (;;) {
    const b = await s.readBatch(700);
    out.flows.push(...endedFlows(b));
    out.packets += b.packets;
    if (b.error) out.error = b.error;
    if (b.done) break;
  }
  out.flows.push(...s.flush());
  return out;
}

/** Flows without their random ids, in a stable order. */
function key(flows: FlowRecord[]): string[] {
  return flows
    .map((f) => JSON.stringify({ ...f, flowid: undefined }))
    .sort();
}

/** Rewrites a little-endian µs pcap: big-endian and/or nanosecond magic, or a smaller snaplen. */
function variant(src: Buffer, o: { bigEndian?: boolean; nsec?: boolean; snaplen?: number }): Buffer {
  const out = Buffer.from(src);
  const w32 = (v: number, at: number): void => void (o.bigEndian ? out.writeUInt32BE(v >>> 0, at) : out.writeUInt32LE(v >>> 0, at));
  const w16 = (v: number, at: number): void => void (o.bigEndian ? out.writeUInt16BE(v, at) : out.writeUInt16LE(v, at));
  w32(o.nsec ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(src.readUInt16LE(4), 4);
  w16(src.readUInt16LE(6), 6);
  w32(src.readUInt32LE(8), 8);
  w32(src.readUInt32LE(12), 12);
  w32(o.snaplen ?? src.readUInt32LE(16), 16);
  w32(src.readUInt32LE(20), 20);
  for (let off = 24; off + 16 <= src.length; ) {
    const incl = src.readUInt32LE(off + 8);
    w32(src.readUInt32LE(off), off);
    w32(o.nsec ? src.readUInt32LE(off + 4) * 1000 + 999 : src.readUInt32LE(off + 4), off + 4);
    w32(incl, off + 8);
    w32(src.readUInt32LE(off + 12), off + 12);
    off += 16 + incl;
  }
  return out;
}

test('mapped reader = libpcap: little/big endian, µs/ns magic, records past the snaplen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dfly-pcapr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gen = await generateCapture({ out: join(dir, 'g.pcap'), packets: 5000, seed: 21, truth: false });
  const src = readFileSync(gen.path);
  const cases: [string, Buffer][] = [
    ['le-us', src],
    ['be-us', variant(src, { bigEndian: true })],
    ['le-ns', variant(src, { nsec: true })],
    ['be-ns', variant(src, { bigEndian: true, nsec: true })],
    ['snaplen-200', variant(src, { snaplen: 200 })],
  ];
  const base = key((await read(gen.path)).flows);
  assert.ok(base.length > 100);
  for (const [name, buf] of cases) {
    const f = join(dir, `${name}.pcap`);
    writeFileSync(f, buf);
    const mapped = await read(f);
    const viaLibpcap = await read(f, LIBPCAP);
    assert.equal(mapped.error, undefined, `${name}: ${mapped.error?.message}`);
    assert.equal(mapped.packets, 5000, name);
    assert.deepEqual(key(mapped.flows), key(viaLibpcap.flows), `${name}: mapped reader and libpcap disagree`);
    if (name !== 'snaplen-200') assert.deepEqual(key(mapped.flows), base, `${name}: differs from the original file`);
  }
});

test('damaged records: libpcap-style errors with packet index and offset, earlier packets kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dfly-pcapr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gen = await generateCapture({ out: join(dir, 'g.pcap'), packets: 3000, seed: 5, truth: false });
  const src = readFileSync(gen.path);
  const offs: number[] = [];
  for (let off = 24; off + 16 <= src.length; off += 16 + src.readUInt32LE(off + 8)) offs.push(off);
  const K = 2000;

  const huge = Buffer.from(src);
  huge.writeUInt32LE(300_000, offs[K]! + 8); // caplen over libpcap's 256 KiB maximum
  const cutHeader = src.subarray(0, offs[K]! + 9); // inside a record header
  const cutData = src.subarray(0, offs[K]! + 16 + 5); // inside a record's data
  for (const [name, buf, msg, at] of [
    ['caplen', huge, /invalid packet capture length 300000, bigger than maximum of 262144/, offs[K]! + 16],
    ['header', cutHeader, /truncated dump file; tried to read 16 file header bytes, only got 9/, cutHeader.length],
    ['data', cutData, /truncated dump file; tried to read \d+ captured bytes, only got 5/, cutData.length],
  ] as const) {
    const f = join(dir, `${name}.pcap`);
    writeFileSync(f, buf);
    const r = await read(f);
    assert.ok(r.error, `${name}: an error is reported`);
    assert.match(r.error.message, msg, name);
    assert.equal(r.error.file, f);
    assert.equal(r.error.packetIndex, K, name);
    assert.equal(r.error.byteOffset, at, name);
    assert.equal(r.packets, K, `${name}: the ${K} packets before the damage are metered`);
    const viaLibpcap = await read(f, LIBPCAP);
    assert.ok(viaLibpcap.error, `${name}: libpcap reports it too`);
    assert.deepEqual(key(r.flows), key(viaLibpcap.flows), `${name}: same flows before the damage as libpcap`);
  }
});

test('a capture cut short between batches ends with one error, not a crash; earlier flows kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dfly-pcapr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gen = await generateCapture({ out: join(dir, 'g.pcap'), packets: 3000, seed: 8, truth: false });
  const s = new FileSensor(options());
  s.open(gen.path);
  const first = await s.readBatch(500);
  assert.equal(first.packets, 500);
  assert.equal(first.done, false);
  truncateSync(gen.path, 4096); // another process cuts the file
  const b = await s.readBatch(500);
  assert.equal(b.done, true);
  assert.equal(b.packets, 0);
  assert.ok(b.error, 'an error is reported');
  assert.match(b.error.message, /capture file shrank from \d+ to 4096 bytes while being read/);
  assert.equal(b.error.file, gen.path);
  assert.equal(b.error.packetIndex, 500);
  const flows = [...endedFlows(first), ...s.flush()];
  assert.equal(flows.reduce((a, f) => a + f.spkts + f.dpkts, 0) <= 500, true);
  assert.ok(flows.length > 0, 'flows of the first 500 packets are kept');
});
