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
  Data, Dictionary, Field, Float64, Int8, Int32, List, RecordBatch, RecordBatchStreamWriter, Schema, Struct, TimestampMicrosecond, Uint16,
  Uint32, Uint64, Uint8, Utf8, Vector, makeData, tableFromIPC, vectorFromArray, type DataType,
} from 'apache-arrow';
import assert from 'node:assert/strict';
import { decodeArrow, encodeArrow } from '../streams/events/arrow.js';
import { EventBatch } from '../streams/events/batch.js';
import type { ColumnData, ColumnSpec, ListData, NumericArray, StringData, StructData } from '../streams/events/columns.js';
import { EVENT_SCHEMA_VERSION, EVENT_TYPES, type EventType } from '../streams/events/table.js';
import { arg, machineLine, median } from './harness.js';

const ROWS = Number(arg('rows', '8192'));
const ROUNDS = Number(arg('rounds', '200'));
const ONLY = arg('only', '');
const PARTITIONS = 6;

function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(42);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
const ipv4 = (): string => `${pick([10, 172, 192, 93, 151])}.${int(256)}.${int(256)}.${1 + int(254)}`;
const ipv6 = (): string => `2001:db8:${hex(4)}::${hex(4)}`;
const mac = (): string => Array.from({ length: 6 }, () => hex(2)).join(':');
const T0 = 1_768_471_200_000_000;

function flowRecord(i: number): Record<string, unknown> {
  const v6 = rand() < 0.15;
  const proto = pick(['TCP', 'TCP', 'TCP', 'UDP', 'UDP', 'ICMP']);
  const stime = T0 + i * 1000 + int(1000);
  const dur = int(120_000);
  const spkts = 1 + int(5000);
  const dpkts = int(5000);
  const kind = pick(['start', 'update', 'update', 'end'] as const);
  const r: Record<string, unknown> = {
    obname: 'sensor-01', ts: stime + dur * 1000, kind, seq: kind === 'start' ? 0 : 1 + int(20), version: 1,
    flowid: `${hex(8)}-${hex(4)}-4${hex(3)}-${hex(4)}-${hex(12)}`, stime, etime: stime + dur * 1000, dur, rtt: int(300_000),
    pcr: int(201) - 100, proto, saddr: v6 ? ipv6() : ipv4(), daddr: v6 ? ipv6() : ipv4(), sport: proto === 'ICMP' ? 8 : 1024 + int(64000),
    dport: proto === 'ICMP' ? 0 : pick([443, 443, 80, 53, 22, 8080, 123]), iflags: proto === 'TCP' ? 'S' : '', uflags: proto === 'TCP' ? pick(['FSPA', 'SA', 'SPA', 'RSA']) : '',
    stcpseq: int(2 ** 32), dtcpseq: int(2 ** 32), svlan: pick([0, 0, 10]), dvlan: 0, spkts, dpkts, sbytes: spkts * (60 + int(1400)), dbytes: dpkts * (60 + int(1400)),
    sentropy: int(256), dentropy: int(256), ssmallpktcnt: int(spkts), dsmallpktcnt: int(dpkts + 1), slargepktcnt: int(spkts), dlargepktcnt: int(dpkts + 1),
    snonemptypktcnt: int(spkts), dnonemptypktcnt: int(dpkts + 1), sfirstnonemptycnt: int(1460), dfirstnonemptycnt: int(1460), smaxpktsize: 60 + int(1440),
    dmaxpktsize: 60 + int(1440), savgpayload: int(1400), davgpayload: int(1400), sstdevpayload: int(500), dstdevpayload: int(500),
    spd: Array.from({ length: int(9) }, () => pick(['S', 'D'])).join(''), spdt: Array.from({ length: int(9) }, (_, k) => String(k * int(50))).join(','),
    reason: kind === 'end' ? pick(['idle', 'end', 'rst', 'eof']) : '', smac: mac(), dmac: mac(), community_id: `1:${hex(26)}==`,
  };
  if (proto === 'TCP' && rand() < 0.5) Object.assign(r, { ndpi_ja4: `t13d1516h2_${hex(12)}_${hex(12)}`, ndpi_ja3s: hex(32) });
  if (rand() < 0.33) {
    Object.assign(r, {
      ndpi_appid: pick(['TLS.YouTube', 'DNS', 'HTTP', 'TLS.Google', 'QUIC.Netflix']), ndpi_category: pick(['Media', 'Network', 'Web', 'Streaming']),
      ndpi_risk_score: int(300), ndpi_risk_severity: int(4), ndpi_risk_list: pick(['', 'Known Proto on Non Std Port', 'Self-signed Cert,Obsolete TLS']),
      ndpi_tcp_fp: `2_64_64240_${hex(12)}/Linux`, ndpi_fp: hex(32),
    });
  }
  return r;
}

function dnsRecord(i: number): Record<string, unknown> {
  const q = `${hex(6)}.${pick(['example.com', 'cdn.example.net', 'googleapis.com', 'akamaiedge.net'])}`;
  return {
    obname: 'sensor-01', ts: T0 + i * 500, flowid: `${hex(8)}-${hex(4)}-4${hex(3)}-${hex(4)}-${hex(12)}`, community_id: `1:${hex(26)}==`,
    saddr: ipv4(), daddr: '10.1.0.53', sport: 1024 + int(64000), dport: 53, query: q, qtype: pick(['A', 'AAAA', 'HTTPS', 'PTR']),
    rcode: pick(['NOERROR', 'NOERROR', 'NXDOMAIN', '']),
    answers: Array.from({ length: int(5) }, (_, k) => ({ name: q, type: k === 0 ? 'CNAME' : 'A', ttl: int(3600), data: k === 0 ? `edge.${q}` : ipv4() })),
  };
}

// ---------------------------------------------------------------------------------------------
// apache-arrow, given the same columns

function arrowTypeOf(s: ColumnSpec): DataType {
  if (s.enum) return new Dictionary(new Utf8(), new Int8());
  switch (s.type) {
    case 'UInt8': return new Uint8();
    case 'UInt16': return new Uint16();
    case 'UInt32': return new Uint32();
    case 'Int32': return new Int32();
    case 'UInt64': return new Uint64();
    case 'Float64': return new Float64();
    case 'Timestamp': return new TimestampMicrosecond('UTC');
    case 'List': return new List(new Field('item', arrowTypeOf(s.of!), false));
    case 'Struct': return new Struct((s.fields ?? []).map((f) => new Field(f.name, arrowTypeOf(f), false)));
    default: return new Utf8();
  }
}

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
