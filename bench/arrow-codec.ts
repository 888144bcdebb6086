// Benchmark: our Arrow IPC codec (streams/events/arrow.ts) vs apache-arrow on the same batches, in
// one process, alternating which side runs first each round; ns per row, medians over the rounds of
// wall time and of process CPU time (user + system, GC threads included: steadier on a shared box).
//   encode: encodeArrow(batch) vs makeData over the same columns (64-bit values converted with two
//           32-bit stores, strings as latin1 bytes: apache-arrow's own cost, not a naive caller's)
//           + RecordBatchStreamWriter; also ours writing the batch as 6 Kafka partitions (`rows`).
//   decode: decodeArrow(bytes) vs tableFromIPC(bytes) + taking every column's typed arrays (no
//           string is built: less than decodeArrow does, which returns JS strings and Float64
//           values), and vs the same + making those strings and Float64 values (like for like).
// Batches: `--rows` flows made with EventBatch.fromRows from realistic, varied flow records (seeded:
// IPv4/IPv6 endpoints, TCP/UDP/ICMP, start/update/end, nDPI fields on a third, nulls elsewhere), and
// as many DNS events with 0..4 answers each. Both codecs' outputs are checked against each other first.
// Usage: node dist/bench/arrow-codec.js [--rows 8192] [--rounds 200] [--only <op name part, e.g. decode>]
import {
  Data, Dictionary, Field, List, RecordBatch, RecordBatchStreamWriter, Schema, Struct, TimestampMicrosecond, Uint64, Uint8, Utf8, Vector, makeData,
  tableFromIPC, vectorFromArray, type DataType,
} from 'apache-arrow';
import assert from 'node:assert/strict';
import { decodeArrow, encodeArrow } from '../streams/events/arrow.js';
import { EventBatch } from '../streams/events/batch.js';
import type { ColumnData, ColumnSpec, ListData, NumericArray, StringData, StructData } from '../streams/events/columns.js';
import { EVENT_SCHEMA_VERSION, EVENT_TYPES, type EventType } from '../streams/events/table.js';
import { arg, machineLine, median } from './harness.js';
import { recordMaker } from './records.js';
import { arrowTypeOf } from '../test/streams/events/apache-arrow-types.js';

const ROWS = Number(arg('rows', '8192'));
const ROUNDS = Number(arg('rounds', '200'));
const ONLY = arg('only', '');
const PARTITIONS = 6;

const make = recordMaker(42);
const flowRecord = (i: number): Record<string, unknown> => make.flow(i);
const dnsRecord = (i: number): Record<string, unknown> => make.dns(i);

// ---------------------------------------------------------------------------------------------
// apache-arrow, given the same columns

function schemaOf(type: EventType): Schema {
  return new Schema(
    EVENT_TYPES[type].columns.map((s) => new Field(s.name, arrowTypeOf(s), s.nullable === true)),
    new Map([['damselfly.type', type], ['damselfly.schema_version', String(EVENT_SCHEMA_VERSION)]]),
  );
}

const dictionaries = new Map<string, Vector<Utf8>>();

/** Our column [start, start + n) as apache-arrow Data, converting only what its API requires. */
function arrowData(s: ColumnSpec, type: DataType, c: ColumnData, valid: Uint8Array | undefined, start: number, n: number): Data {
  let nullBitmap: Uint8Array | undefined;
  let nullCount = 0;
  if (valid) {
    nullBitmap = new Uint8Array(Math.ceil(n / 8));
    for (let i = 0; i < n; i++) if (valid[start + i]) nullBitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  if (s.enum) {
    let dictionary = dictionaries.get(s.name);
    if (!dictionary) dictionaries.set(s.name, (dictionary = vectorFromArray([...s.enum], new Utf8())));
    const codes = c as Uint8Array;
    return makeData({ type: type as Dictionary, length: n, nullCount, nullBitmap, data: new Int8Array(codes.buffer, codes.byteOffset + start, n), dictionary });
  }
  if (s.type === 'UInt64' || s.type === 'Timestamp') {
    const a = c as Float64Array;
    const w = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const v = a[start + i]!;
      const hi = Math.floor(v / 4294967296);
      w[2 * i] = v - hi * 4294967296;
      w[2 * i + 1] = hi;
    }
    return s.type === 'UInt64'
      ? makeData({ type: type as Uint64, length: n, nullCount, nullBitmap, data: new BigUint64Array(w.buffer) })
      : makeData({ type: type as TimestampMicrosecond, length: n, nullCount, nullBitmap, data: new BigInt64Array(w.buffer) });
  }
  if (s.type === 'String' || s.type === 'Json') {
    const d = c as StringData;
    const a = d.offsets[start]!;
    const valueOffsets = new Int32Array(n + 1);
    for (let i = 0; i <= n; i++) valueOffsets[i] = d.offsets[start + i]! - a;
    const data = Buffer.from(d.data.substring(a, d.offsets[start + n]!), 'latin1');
    return makeData({ type: type as Utf8, length: n, nullCount, nullBitmap, valueOffsets, data });
  }
  if (s.type === 'List') {
    const l = c as ListData;
    const a = l.offsets[start]!;
    const valueOffsets = new Int32Array(n + 1);
    for (let i = 0; i <= n; i++) valueOffsets[i] = l.offsets[start + i]! - a;
    const child = arrowData(s.of!, (type as List).children[0]!.type, l.items, undefined, a, l.offsets[start + n]! - a);
    return makeData({ type: type as List, length: n, nullCount, nullBitmap, valueOffsets, child });
  }
  if (s.type === 'Struct') {
    const st = c as StructData;
    const children = (s.fields ?? []).map((f, i) => arrowData(f, (type as Struct).children[i]!.type, st.fields[f.name]!, undefined, start, n));
    return makeData({ type: type as Struct, length: n, nullCount, nullBitmap, children });
  }
  const a = c as NumericArray;
  return makeData({ type: type as Uint8, length: n, nullCount, nullBitmap, data: a.subarray(start, start + n) as Uint8Array });
}

function arrowEncode(b: EventBatch, schema: Schema): Uint8Array {
  const children = EVENT_TYPES[b.type].columns.map((s, i) => arrowData(s, schema.fields[i]!.type, b.cols[s.name]!, b.valid[s.name], 0, b.length));
  const rb = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: b.length, nullCount: 0, children }));
  return RecordBatchStreamWriter.writeAll([rb]).toUint8Array(true);
}

let sink = 0;

function takeArrays(d: Data): void {
  sink += (d.values?.length ?? 0) + (d.valueOffsets?.length ?? 0) + (d.nullBitmap?.length ?? 0);
  if (d.dictionary) for (const x of d.dictionary.data) takeArrays(x);
  for (const child of d.children) takeArrays(child);
}

function arrowDecode(bytes: Uint8Array): void {
  const t = tableFromIPC(bytes);
  for (const f of t.schema.fields) for (const d of t.getChild(f.name)!.data) takeArrays(d);
}

/** What decodeArrow also does beyond taking arrays: JS strings, and 64-bit values as Float64. */
function toOurLayout(d: Data): void {
  const id = d.type.typeId;
  if (id === 5) {
    const v = d.values as Uint8Array;
    sink += Buffer.from(v.buffer, v.byteOffset, v.length).toString('latin1').length;
  } else if (d.values instanceof BigInt64Array || d.values instanceof BigUint64Array) {
    const w = new Uint32Array(d.values.buffer, d.values.byteOffset, 2 * d.length);
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = w[2 * i + 1]! * 4294967296 + w[2 * i]!;
    sink += out.length;
  }
  if (d.dictionary) for (const x of d.dictionary.data) toOurLayout(x);
  for (const child of d.children) toOurLayout(child);
}

function arrowDecodeToOurs(bytes: Uint8Array): void {
  const t = tableFromIPC(bytes);
  for (const f of t.schema.fields) for (const d of t.getChild(f.name)!.data) toOurLayout(d);
}

// ---------------------------------------------------------------------------------------------

interface Case {
  name: string;
  batch: EventBatch;
  schema: Schema;
  partitions: Int32Array[];
}

function partitionsOf(b: EventBatch): Int32Array[] {
  const key = b.cols.flowid as StringData;
  const lists: number[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let i = 0; i < b.length; i++) {
    let h = 0;
    for (let j = key.offsets[i]!; j < key.offsets[i + 1]!; j++) h = (Math.imul(h, 31) + key.data.charCodeAt(j)) | 0;
    lists[(h >>> 0) % PARTITIONS]!.push(i);
  }
  return lists.map((l) => Int32Array.from(l));
}

/** Wall and CPU (user + system, all threads: GC included) milliseconds of one call. */
function time(f: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

function run(c: Case): void {
  const { batch, schema } = c;
  const ours = encodeArrow(batch);
  const theirs = arrowEncode(batch, schema);
  // Both sides read both sides' bytes, and get the batch back.
  assert.deepEqual(decodeArrow(theirs).rows(), batch.rows());
  assert.equal(tableFromIPC(ours).numRows, batch.length);
  assert.deepEqual(c.partitions.reduce((n, p) => n + decodeArrow(encodeArrow(batch, p)).length, 0), batch.length);

  const ops = {
    'encode ours': () => void encodeArrow(batch),
    'encode apache-arrow': () => void arrowEncode(batch, schema),
    'encode ours, 6 partitions (rows)': () => { for (const p of c.partitions) encodeArrow(batch, p); },
    'decode ours': () => void decodeArrow(ours),
    'decode apache-arrow': () => arrowDecode(ours),
    'decode apache-arrow + strings, 64-bit': () => arrowDecodeToOurs(ours),
  } as const;
  type Op = keyof typeof ops;
  const names = (Object.keys(ops) as Op[]).filter((n) => n.includes(ONLY));
  const wall = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Op, number[]>;
  const cpu = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Op, number[]>;
  const warmup = Math.max(5, Math.floor(ROUNDS / 10));
  for (let r = 0; r < warmup + ROUNDS; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const n of order) {
      const t = time(ops[n]);
      if (r < warmup) continue;
      wall[n].push((t.wall * 1e6) / batch.length);
      cpu[n].push((t.cpu * 1e6) / batch.length);
    }
  }
  const ns = (n: Op): number => median(wall[n]);
  const fmt = (x: number): string => x.toFixed(1).padStart(8);
  console.log(`\n${c.name}: ${batch.length} rows; message ${ours.length} bytes ours, ${theirs.length} apache-arrow; ${ROUNDS} rounds`);
  console.log(`  ${'ns/row (median)'.padEnd(40)}     wall      CPU`);
  for (const n of names) console.log(`  ${n.padEnd(40)} ${fmt(ns(n))} ${fmt(median(cpu[n]))}`);
  if (ONLY) return;
  const ratio = (a: Op, b: Op): string => `${fmt(ns(a) / ns(b))}x wall ${fmt(median(cpu[a]) / median(cpu[b]))}x CPU`;
  console.log(`  encode: apache-arrow / ours                ${ratio('encode apache-arrow', 'encode ours')}`);
  console.log(`  decode: apache-arrow (arrays only) / ours  ${ratio('decode apache-arrow', 'decode ours')}`);
  console.log(`  decode: apache-arrow (+ strings) / ours    ${ratio('decode apache-arrow + strings, 64-bit', 'decode ours')}`);
}

console.log(`arrow-codec: ${machineLine()}`);
const flows = EventBatch.fromRows('flow', Array.from({ length: ROWS }, (_, i) => flowRecord(i)));
const dns = EventBatch.fromRows('dns', Array.from({ length: ROWS }, (_, i) => dnsRecord(i)));
run({ name: 'flow', batch: flows, schema: schemaOf('flow'), partitions: partitionsOf(flows) });
run({ name: 'dns', batch: dns, schema: schemaOf('dns'), partitions: partitionsOf(dns) });
if (sink < 0) console.log(sink);
