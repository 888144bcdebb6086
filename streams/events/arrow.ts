// Arrow IPC framing of event batches (one Kafka message each): encodeArrow writes a batch, or
// chosen rows of it, as one self-contained Arrow IPC stream —
// Schema, the DictionaryBatch messages its enum columns need, one RecordBatch, end-of-stream — so
// that pyarrow, apache-arrow, DuckDB or Spark read a single message as it is; decodeArrow reads
// such a stream back, ours or another Arrow writer's with the same schema.
//
// A codec of our own rather than apache-arrow's writer: that one cost ~355 ns per row on our
// 8192-row flow batches (it copies every column into its own Data objects) and is 1+ MB of JS.
// Here the columns already have Arrow's layout (columns.ts), so encoding is one pass per column
// into a single output buffer, and decoding hands out typed arrays over the input where alignment
// allows. The constant parts (the Schema message and the dictionaries of a type) are built once per
// type and copied; the flatbuffer tables are built and read in arrow-messages.ts.
//
// Wire schema (one field per column of the type, in table order; schema metadata damselfly.type and
// damselfly.schema_version): UInt8/16/32 → Int(n, unsigned), Int32 → Int(32, signed), UInt64 →
// Int(64, unsigned), Float32/64 → FloatingPoint, Timestamp → Timestamp(MICROSECOND, UTC), String →
// Utf8, Json → Utf8 with field metadata damselfly.json=true, an enum column → Utf8 dictionary with
// Int8 indices, List → List<item>, Struct → Struct_. A validity bitmap only where a column holds
// nulls. 64-bit values are Float64Array in memory: written as two 32-bit words each, and read back
// refusing any value beyond 2^53 rather than rounding it.
//
// decodeArrow refuses, with a BatchFormatError of one line, anything it cannot take exactly: a
// corrupt or truncated payload, a compressed body, big-endian data, delta dictionaries, a schema
// that is not the event type's (names, order and types must match; nullability flags are not
// compared, the null counts are), an unknown type or other schema version, and a stream of more
// than one record batch (we write one per message; a consumer of multi-batch files should split
// them first). A missing end-of-stream marker is accepted, as other Arrow readers do.
import { Buffer, isAscii, isUtf8 } from 'node:buffer';
import {
  PRECISION_DOUBLE, PRECISION_SINGLE, TIME_UNIT_MICROSECOND, TYPE_FLOATING_POINT, TYPE_INT, TYPE_LIST, TYPE_STRUCT, TYPE_TIMESTAMP,
  TYPE_UTF8, corrupt, describeType, dictionaryBatchMessage, framedSize, pad8, readFrame, recordBatchMessage, schemaMessage, unsupported,
  writeEos, writeFrame, type ArrowField, type ArrowSchema, type ArrowType, type DictionaryBatchMeta, type Frame, type RecordBatchMeta,
} from './arrow-messages.js';
import { EventBatch, checkJson } from './batch.js';
import type { ColumnData, ColumnSpec, Columns, ListData, NumericArray, NumericType, StringData, StructData, Validity } from './columns.js';
import { isNumeric, isStringLike } from './columns.js';
import { EVENT_SCHEMA_VERSION, EVENT_TYPES, EVENT_TYPE_NAMES, isEventType, type EventType } from './table.js';
import { BatchFormatError, InternalError, InvalidArgumentError, messageOf } from '../errors.js';
import { streamsNative } from '../native.js';

export const ARROW_TYPE_KEY = 'damselfly.type';
export const ARROW_VERSION_KEY = 'damselfly.schema_version';
export const ARROW_JSON_KEY = 'damselfly.json';

const TWO_32 = 4294967296;

// ---------------------------------------------------------------------------------------------
// Schema: built once per event type (and schema version), with the bytes every stream begins with.

interface TypeCodec {
  readonly type: EventType;
  readonly v: number;
  readonly fields: readonly ArrowField[];
  /** The framed Schema message, then the framed DictionaryBatch messages. */
  readonly prefix: Uint8Array;
  /** Bytes of the framed Schema message at the start of `prefix`. */
  readonly schemaLength: number;
  /** Field nodes and buffers a record batch of the type has. */
  readonly nodeCount: number;
  readonly bufferCount: number;
}

const INT = (bitWidth: number, signed: boolean): ArrowType => ({ id: TYPE_INT, bitWidth, signed });

function arrowType(s: ColumnSpec): ArrowType {
  switch (s.type) {
    case 'UInt8': return INT(8, false);
    case 'UInt16': return INT(16, false);
    case 'UInt32': return INT(32, false);
    case 'Int32': return INT(32, true);
    case 'UInt64': return INT(64, false);
    case 'Float32': return { id: TYPE_FLOATING_POINT, precision: PRECISION_SINGLE };
    case 'Float64': return { id: TYPE_FLOATING_POINT, precision: PRECISION_DOUBLE };
    case 'Timestamp': return { id: TYPE_TIMESTAMP, unit: TIME_UNIT_MICROSECOND, timezone: 'UTC' };
    case 'String':
    case 'Json': return { id: TYPE_UTF8 };
    case 'List': return { id: TYPE_LIST };
    case 'Struct': return { id: TYPE_STRUCT };
  }
}

/** The field of a column; `dictionaryId` for a top-level enum column (nested codes stay UInt8). */
function arrowField(s: ColumnSpec, dictionaryId: number | null): ArrowField {
  const labels = dictionaryId === null ? undefined : s.enum;
  if (labels && labels.length > 127) throw new InternalError(`${s.name}: ${labels.length} enum labels do not fit Int8 dictionary indices`);
  return {
    name: s.name,
    nullable: s.nullable === true,
    type: labels ? { id: TYPE_UTF8 } : arrowType(s),
    dictionary: labels ? { id: dictionaryId!, indexBitWidth: 8, indexSigned: true } : null,
    children: s.type === 'List' ? [arrowField(s.of!, null)] : s.type === 'Struct' ? (s.fields ?? []).map((f) => arrowField(f, null)) : [],
    metadata: s.type === 'Json' ? { [ARROW_JSON_KEY]: 'true' } : {},
  };
}

/** Field nodes and buffers of a column (Int, dictionary indices, List: 2 buffers; Utf8: 3; Struct: 1). */
function layoutCount(s: ColumnSpec, acc: { nodes: number; buffers: number }): void {
  acc.nodes++;
  if (s.type === 'List') {
    acc.buffers += 2;
    layoutCount(s.of!, acc);
  } else if (s.type === 'Struct') {
    acc.buffers += 1;
    for (const f of s.fields ?? []) layoutCount(f, acc);
  } else {
    acc.buffers += isStringLike(s.type) ? 3 : 2;
  }
}

const codecs = new Map<string, TypeCodec>();

function codecOf(type: EventType, v: number): TypeCodec {
  const key = `${type}@${v}`;
  let c = codecs.get(key);
  if (c) return c;
  const specs = EVENT_TYPES[type].columns;
  let ids = 0;
  const fields = specs.map((s) => arrowField(s, s.enum ? ids++ : null));
  const schema: ArrowSchema = { fields, metadata: { [ARROW_TYPE_KEY]: type, [ARROW_VERSION_KEY]: String(v) } };
  const meta = schemaMessage(schema);
  const parts: Uint8Array[] = [new Uint8Array(framedSize(meta))];
  writeFrame(parts[0]!, 0, meta);
  specs.forEach((s, i) => {
    const d = fields[i]!.dictionary;
    if (d && s.enum) parts.push(dictionaryFrame(d.id, s.enum));
  });
  const prefix = Buffer.concat(parts);
  const counts = { nodes: 0, buffers: 0 };
  for (const s of specs) layoutCount(s, counts);
  c = { type, v, fields, prefix, schemaLength: parts[0]!.length, nodeCount: counts.nodes, bufferCount: counts.buffers };
  codecs.set(key, c);
  return c;
}

function dictionaryFrame(id: number, labels: readonly string[]): Uint8Array {
  const offsets = new Int32Array(labels.length + 1);
  labels.forEach((l, i) => (offsets[i + 1] = offsets[i]! + l.length));
  const plan = new BodyPlan();
  planColumn(plan, { name: 'labels', type: 'String' }, { data: labels.join(''), offsets }, undefined, { start: 0, n: labels.length, rows: null });
  const { buffers, bodyLength } = plan.layout();
  const meta = dictionaryBatchMessage(id, labels.length, plan.nodes, buffers, bodyLength);
  const out = Buffer.alloc(framedSize(meta) + bodyLength);
  plan.write(new Out(out), writeFrame(out, 0, meta), buffers);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding: a plan of every buffer's size and writer, then one allocation and one pass.

/**
 * The output and typed views over all of it: every buffer starts 8-aligned, so a writer indexes a
 * view (at >> 2 for 32-bit) instead of making one per buffer, which cost more than small copies.
 */
class Out {
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;

  constructor(readonly buf: Buffer) {
    const { buffer, byteOffset, length } = buf;
    this.u16 = new Uint16Array(buffer, byteOffset, length >> 1);
    this.u32 = new Uint32Array(buffer, byteOffset, length >> 2);
    this.i32 = new Int32Array(buffer, byteOffset, length >> 2);
    this.f32 = new Float32Array(buffer, byteOffset, length >> 2);
    this.f64 = new Float64Array(buffer, byteOffset, length >> 3);
  }
}

type Writer = (out: Out, at: number) => void;

/** Rows of a column to write: [start, start + n), or `rows` (n of them) when given. */
interface Selection {
  start: number;
  n: number;
  rows: Int32Array | null;
}

class BodyPlan {
  /** (length, null_count) per field node, in schema order (depth first). */
  readonly nodes: number[] = [];
  private readonly sizes: number[] = [];
  private readonly writers: (Writer | null)[] = [];

  node(length: number, nulls: number): void {
    this.nodes.push(length, nulls);
  }

  buffer(bytes: number, write: Writer | null): void {
    this.sizes.push(bytes);
    this.writers.push(write);
  }

  /** (offset, length) of every buffer, each starting 8-aligned within the body. */
  layout(): { buffers: Float64Array; bodyLength: number } {
    const buffers = new Float64Array(2 * this.sizes.length);
    let at = 0;
    for (let i = 0; i < this.sizes.length; i++) {
      buffers[2 * i] = at;
      buffers[2 * i + 1] = this.sizes[i]!;
      at += pad8(this.sizes[i]!);
    }
    return { buffers, bodyLength: at };
  }

  /** Writes every buffer and zeroes the padding after it (the output is not zero-filled). */
  write(out: Out, body: number, buffers: Float64Array): void {
    const dst = out.buf;
    for (let i = 0; i < this.writers.length; i++) {
      const at = body + buffers[2 * i]!;
      const size = buffers[2 * i + 1]!;
      this.writers[i]?.(out, at);
      for (let p = at + size, end = at + pad8(size); p < end; p++) dst[p] = 0;
    }
  }
}

/**
 * The batch as one Arrow IPC stream. With `rows`, only those rows (indices into the batch, in that
 * order, repeats allowed): the Kafka producer writes one message per partition this way without
 * first copying the batch.
 */
export function encodeArrow(b: EventBatch, rows?: Int32Array): Uint8Array {
  const codec = codecOf(b.type, b.v);
  if (rows) {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r < 0 || r >= b.length) throw new InvalidArgumentError(`encodeArrow: row ${r} is outside the ${b.type} batch of ${b.length}`);
    }
  }
  const sel: Selection = rows ? { start: 0, n: rows.length, rows } : { start: 0, n: b.length, rows: null };
  const plan = new BodyPlan();
  for (const s of EVENT_TYPES[b.type].columns) {
    const c = b.cols[s.name];
    if (c === undefined) throw new BatchFormatError(`${b.type} batch: column ${s.name} missing`);
    planColumn(plan, s, c, b.valid[s.name], sel);
  }
  const { buffers, bodyLength } = plan.layout();
  const meta = recordBatchMessage(sel.n, plan.nodes, buffers, bodyLength);
  const total = codec.prefix.length + framedSize(meta) + bodyLength + 8;
  // Not zero-filled: every byte is written below (buffers, their padding, the frames).
  const buf = Buffer.allocUnsafeSlow(total);
  buf.set(codec.prefix, 0);
  const body = writeFrame(buf, codec.prefix.length, meta);
  plan.write(new Out(buf), body, buffers);
  writeEos(buf, body + bodyLength);
  return new Uint8Array(buf.buffer, buf.byteOffset, total);
}

function planColumn(p: BodyPlan, s: ColumnSpec, c: ColumnData, valid: Uint8Array | undefined, sel: Selection): void {
  const nulls = valid ? countNulls(valid, sel) : 0;
  p.node(sel.n, nulls);
  p.buffer(nulls > 0 ? Math.ceil(sel.n / 8) : 0, nulls > 0 ? (out, at) => writeBitmap(out.buf, at, valid!, sel) : null);
  if (isNumeric(s.type)) planNumeric(p, s.type, c as NumericArray, sel);
  else if (isStringLike(s.type)) planString(p, c as StringData, sel);
  else if (s.type === 'List') planList(p, s, c as ListData, sel);
  else for (const f of s.fields ?? []) planColumn(p, f, (c as StructData).fields[f.name]!, undefined, sel);
}

function countNulls(valid: Uint8Array, { start, n, rows }: Selection): number {
  let nulls = 0;
  if (rows) for (let i = 0; i < n; i++) nulls += valid[rows[i]!] === 0 ? 1 : 0;
  else for (let i = 0; i < n; i++) nulls += valid[start + i] === 0 ? 1 : 0;
  return nulls;
}

function writeBitmap(dst: Buffer, at: number, valid: Uint8Array, { start, n, rows }: Selection): void {
  dst.fill(0, at, at + Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if (valid[rows ? rows[i]! : start + i] !== 0) dst[at + (i >>> 3)]! |= 1 << (i & 7);
}

function planNumeric(p: BodyPlan, t: NumericType, a: NumericArray, sel: Selection): void {
  const { start, n, rows } = sel;
  if (t === 'UInt64' || t === 'Timestamp') {
    p.buffer(8 * n, (out, at) => write64(out.u32, at >> 2, a as Float64Array, sel));
    return;
  }
  // Enum codes (UInt8) are written as they are: they are the Int8 dictionary indices.
  p.buffer(a.BYTES_PER_ELEMENT * n, rows ? (out, at) => gather(out, at, a, rows) : (out, at) => copy(out, at, a.subarray(start, start + n)));
}

/** A whole numeric column into the view of its own type (a memmove, no view made). */
function copy(out: Out, at: number, a: NumericArray): void {
  if (a instanceof Uint8Array) out.buf.set(a, at);
  else if (a instanceof Uint16Array) out.u16.set(a, at >> 1);
  else if (a instanceof Uint32Array) out.u32.set(a, at >> 2);
  else if (a instanceof Int32Array) out.i32.set(a, at >> 2);
  else if (a instanceof Float32Array) out.f32.set(a, at >> 2);
  else out.f64.set(a, at >> 3);
}

/** Chosen rows of a numeric column, bit-exact by element width (a native gather: streams/native). */
function gather(out: Out, at: number, a: NumericArray, rows: Int32Array): void {
  streamsNative().takeFixed(out.buf, at, a, a.BYTES_PER_ELEMENT as 1 | 2 | 4 | 8, rows);
}

/**
 * Float64 values as 64-bit integers into `w` from word `k`, two 32-bit stores each: the high word
 * is floor(v / 2^32) (negative before 1970, which the Uint32 store wraps to two's complement).
 */
function write64(w: Uint32Array, k: number, a: Float64Array, { start, n, rows }: Selection): void {
  if (rows) {
    for (let i = 0; i < n; i++) {
      const v = a[rows[i]!]!;
      const hi = Math.floor(v / TWO_32);
      w[k + 2 * i] = v - hi * TWO_32;
      w[k + 2 * i + 1] = hi;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = a[start + i]!;
      const hi = Math.floor(v / TWO_32);
      w[k + 2 * i] = v - hi * TWO_32;
      w[k + 2 * i + 1] = hi;
    }
  }
}

/** Offsets [o[start] .. o[start + n]] rebased to 0. */
function planRebasedOffsets(p: BodyPlan, o: Int32Array, start: number, n: number): void {
  p.buffer(4 * (n + 1), (out, at) => rebase(out.i32, at >> 2, o, start, n));
}

function rebase(w: Int32Array, k: number, o: Int32Array, start: number, n: number): void {
  const base = o[start]!;
  for (let i = 0; i <= n; i++) w[k + i] = o[start + i]! - base;
}

/** Offsets of chosen rows' values (lists or strings), from 0 (n + 1 of them). */
function gatherOffsets(o: Int32Array, rows: Int32Array): Int32Array {
  const out = new Int32Array(rows.length + 1);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out[i + 1] = out[i]! + o[r + 1]! - o[r]!;
  }
  return out;
}

function planString(p: BodyPlan, d: StringData, sel: Selection): void {
  const { start, n, rows } = sel;
  const o = d.offsets;
  if (!rows) {
    // Sensor strings are ASCII: one latin1 write of the whole range, UTF-16 offsets = byte offsets.
    const text = d.data.substring(o[start]!, o[start + n]!);
    const bytes = d.ascii === true ? text.length : Buffer.byteLength(text, 'utf8');
    if (bytes !== text.length) return planUtf8(p, d, sel);
    planRebasedOffsets(p, o, start, n);
    p.buffer(bytes, (out, at) => out.buf.write(text, at, bytes, 'latin1'));
    return;
  }
  // Chosen rows of an ASCII column: each row's bytes copied from the column's latin1 bytes (natively:
  // a JS loop over these short values cost 5x the whole-range write).
  const bytes = asciiBytesOf(d);
  if (!bytes) return planUtf8(p, d, sel);
  const offsets = gatherOffsets(o, rows);
  p.buffer(4 * (n + 1), (out, at) => out.i32.set(offsets, at >> 2));
  p.buffer(offsets[n]!, (out, at) => void streamsNative().takeValues(out.buf, at, bytes, o, o[0]!, rows));
}

/**
 * Latin1 bytes of whole ASCII string columns (null: not ASCII), kept while the column lives: the
 * producer encodes one batch as several row selections (one per partition), and each would
 * otherwise scan and convert the whole column again. Costs a copy of the column's text meanwhile.
 */
const columnBytes = new WeakMap<StringData, { data: string; offsets: Int32Array; bytes: Buffer | null }>();

function asciiBytesOf(d: StringData): Buffer | null {
  const c = columnBytes.get(d);
  if (c && c.data === d.data && c.offsets === d.offsets) return c.bytes;
  const o = d.offsets;
  const all = d.data.substring(o[0]!, o[o.length - 1]!);
  const bytes = d.ascii === true || Buffer.byteLength(all, 'utf8') === all.length ? Buffer.from(all, 'latin1') : null;
  columnBytes.set(d, { data: d.data, offsets: o, bytes });
  return bytes;
}

/** Strings with non-ASCII text: each value encoded on its own (a lone surrogate becomes U+FFFD). */
function planUtf8(p: BodyPlan, d: StringData, { start, n, rows }: Selection): void {
  const values = new Array<string>(n);
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i]! : start + i;
    const v = d.data.substring(d.offsets[r]!, d.offsets[r + 1]!);
    values[i] = v;
    total += Buffer.byteLength(v, 'utf8');
    offsets[i + 1] = total;
  }
  p.buffer(4 * (n + 1), (out, at) => out.i32.set(offsets, at >> 2));
  p.buffer(total, (out, at) => {
    for (let i = 0; i < n; i++) out.buf.write(values[i]!, at + offsets[i]!, offsets[i + 1]! - offsets[i]!, 'utf8');
  });
}

function planList(p: BodyPlan, s: ColumnSpec, l: ListData, { start, n, rows }: Selection): void {
  const o = l.offsets;
  if (!rows) {
    planRebasedOffsets(p, o, start, n);
    planColumn(p, s.of!, l.items, undefined, { start: o[start]!, n: o[start + n]! - o[start]!, rows: null });
    return;
  }
  const offsets = gatherOffsets(o, rows);
  const items = new Int32Array(offsets[n]!);
  for (let i = 0, k = 0; i < n; i++) for (let j = o[rows[i]!]!, end = o[rows[i]! + 1]!; j < end; j++) items[k++] = j;
  p.buffer(4 * (n + 1), (out, at) => out.i32.set(offsets, at >> 2));
  planColumn(p, s.of!, l.items, undefined, { start: 0, n: items.length, rows: items });
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** What the stream's schema says: the event type, version, and its fields (checked against ours). */
interface StreamSchema {
  readonly type: EventType;
  readonly v: number;
  readonly fields: readonly ArrowField[];
  readonly nodeCount: number;
  readonly bufferCount: number;
}

/** Per dictionary id: the enum code of each dictionary entry, and whether entry k is code k. */
interface Dictionary {
  readonly codes: Uint8Array;
  readonly identity: boolean;
}

/**
 * The batch an Arrow IPC stream holds (of type `expected` when given: a topic carries one type).
 * Numeric columns and string offsets are views over `bytes` where they are aligned (do not reuse
 * the input buffer while the batch is in use); throws BatchFormatError, with one line saying what
 * is wrong, on anything it cannot read exactly.
 */
export function decodeArrow<T extends EventType = EventType>(bytes: Uint8Array, expected?: T): EventBatch<T> {
  try {
    const b = decodeStream(bytes);
    if (expected !== undefined && b.type !== expected) throw new BatchFormatError(`a ${b.type} batch where ${expected} events belong`);
    return b as EventBatch<T>;
  } catch (e) {
    if (e instanceof BatchFormatError) throw e;
    // A check missing above: still one line for the consumer, the cause kept for diagnosis.
    throw new BatchFormatError(`corrupt Arrow payload (unchecked ${e instanceof Error ? e.name : 'error'}: ${messageOf(e)})`, e);
  }
}

function decodeStream(bytes: Uint8Array): EventBatch {
  if (!(bytes instanceof Uint8Array)) throw new BatchFormatError('Arrow payload is not bytes');
  if (bytes.length === 0) throw new BatchFormatError('empty Arrow payload');
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Our own schema message, byte for byte: skip reading and checking it.
  const own = ownSchemaAt(input);
  let schema: StreamSchema | null = own;
  let pos = own ? own.schemaLength : 0;
  const dictionaries = new Map<number, Dictionary>();
  let batch: EventBatch | null = null;
  for (let f = readFrame(input, pos); f !== null; f = readFrame(input, pos)) {
    const h = f.header;
    if (batch) throw unsupported(h.kind === 'record' ? 'more than one record batch (one per stream is read)' : `a ${h.kind} message after the record batch`);
    if (h.kind === 'schema') {
      if (schema) throw corrupt('a second schema message');
      schema = checkSchema(h.schema);
    } else if (!schema) {
      throw corrupt(`a ${h.kind === 'record' ? 'record' : 'dictionary'} batch before the schema`);
    } else if (h.kind === 'dictionary') {
      dictionaries.set(h.batch.id, decodeDictionary(input, f, h.batch, schema));
    } else {
      batch = decodeRecordBatch(input, f, h.batch, schema, dictionaries);
    }
    pos = f.next;
  }
  if (!batch) throw new BatchFormatError(schema ? 'Arrow stream holds no record batch' : 'Arrow stream holds no schema');
  return batch;
}

let ownCodecs: TypeCodec[] | null = null;

function ownSchemaAt(input: Buffer): TypeCodec | null {
  ownCodecs ??= EVENT_TYPE_NAMES.map((t) => codecOf(t, EVENT_SCHEMA_VERSION));
  for (const c of ownCodecs) {
    const n = c.schemaLength;
    if (input.length >= n && input.compare(c.prefix, 0, n, 0, n) === 0) return c;
  }
  return null;
}

function checkSchema(s: ArrowSchema): StreamSchema {
  const type = s.metadata[ARROW_TYPE_KEY];
  if (type === undefined) throw new BatchFormatError(`Arrow schema without ${ARROW_TYPE_KEY} metadata: not a Damselfly event stream`);
  if (!isEventType(type)) throw new BatchFormatError(`unknown event type '${type}'`);
  const vText = s.metadata[ARROW_VERSION_KEY];
  if (vText === undefined || !/^\d{1,9}$/.test(vText)) throw new BatchFormatError(`${type} Arrow schema: bad ${ARROW_VERSION_KEY} '${vText ?? ''}'`);
  const v = Number(vText);
  if (v !== EVENT_SCHEMA_VERSION) throw new BatchFormatError(`${type} batch of schema version ${v}: this build reads version ${EVENT_SCHEMA_VERSION}`);
  const ours = codecOf(type, v);
  matchFields(`${type} schema`, ours.fields, s.fields);
  return { type, v, fields: s.fields, nodeCount: ours.nodeCount, bufferCount: ours.bufferCount };
}

function describeField(f: ArrowField): string {
  if (f.dictionary) return `Dictionary<Int(${f.dictionary.indexBitWidth}, ${f.dictionary.indexSigned ? 'signed' : 'unsigned'}), ${describeType(f.type)}>`;
  if (f.type.id === TYPE_LIST && f.children.length === 1) return `List<${describeField(f.children[0]!)}>`;
  return describeType(f.type);
}

function matchFields(path: string, want: readonly ArrowField[], got: readonly ArrowField[]): void {
  const names = new Set(got.map((f) => f.name));
  const missing = want.find((w) => !names.has(w.name));
  if (missing) throw new BatchFormatError(`${path}: column ${missing.name} missing`);
  for (let i = 0; i < got.length; i++) {
    const w = want[i];
    if (!w) throw new BatchFormatError(`${path}: unexpected column ${got[i]!.name}`);
    if (got[i]!.name !== w.name) throw new BatchFormatError(`${path}: column ${i} is ${got[i]!.name} where ${w.name} belongs`);
    matchField(`${path}: ${w.name}`, w, got[i]!);
  }
}

/** Same type, same children; nullability is not compared (the null counts are, when read). */
function matchField(path: string, w: ArrowField, g: ArrowField): void {
  const mismatch = (): BatchFormatError => new BatchFormatError(`${path} is ${describeField(g)}, expected ${describeField(w)}`);
  if (!sameType(w.type, g.type) || (w.dictionary === null) !== (g.dictionary === null)) throw mismatch();
  if (g.dictionary && ![8, 16, 32].includes(g.dictionary.indexBitWidth)) throw mismatch();
  if (w.type.id === TYPE_LIST) {
    if (g.children.length !== 1) throw mismatch();
    matchField(`${path}[]`, w.children[0]!, g.children[0]!);
  } else if (w.type.id === TYPE_STRUCT) {
    matchFields(path, w.children, g.children);
  }
}

function sameType(w: ArrowType, g: ArrowType): boolean {
  if (w.id !== g.id) return false;
  switch (w.id) {
    case TYPE_INT: return w.bitWidth === g.bitWidth && w.signed === g.signed;
    case TYPE_FLOATING_POINT: return w.precision === g.precision;
    // Instants are UTC whatever the zone label says; a zone-less timestamp is taken as UTC.
    case TYPE_TIMESTAMP: return w.unit === g.unit;
    default: return true;
  }
}

/** Walks the field nodes and buffers of one record batch, checking each against the body. */
class Cursor {
  private node = 0;
  private buffer = 0;
  /** Byte length of the buffer nextBuffer returned last. */
  lastLength = 0;

  constructor(
    readonly input: Buffer,
    private readonly frame: Frame,
    private readonly rb: RecordBatchMeta,
    nodeCount: number,
    bufferCount: number,
    what: string,
  ) {
    if (rb.compressed) throw unsupported('body compression');
    if (rb.nodes.length !== 2 * nodeCount || rb.buffers.length !== 2 * bufferCount) {
      throw corrupt(`${what} has ${rb.nodes.length / 2} field nodes and ${rb.buffers.length / 2} buffers, the schema needs ${nodeCount} and ${bufferCount}`);
    }
  }

  /** (length, null count) of the next field node. */
  nextNode(path: string): [number, number] {
    const i = 2 * this.node++;
    const n = this.rb.nodes[i]!;
    const nulls = this.rb.nodes[i + 1]!;
    if (nulls > n) throw corrupt(`${path}: ${nulls} nulls in ${n} rows`);
    return [n, nulls];
  }

  /**
   * Where the next buffer starts in the input, checked to lie in the body and hold `need` bytes
   * (`path` and `part` name it in an error).
   */
  nextBuffer(need: number, path: string, part = ''): number {
    const i = 2 * this.buffer++;
    const offset = this.rb.buffers[i]!;
    const length = this.rb.buffers[i + 1]!;
    if (offset + length > this.frame.bodyLength) throw corrupt(`record batch body is ${this.frame.bodyLength} bytes, buffers need ${offset + length}`);
    if (length < need) throw corrupt(`${path}${part}: buffer of ${length} bytes where ${need} are needed`);
    this.lastLength = length;
    return this.frame.bodyStart + offset;
  }
}

function decodeRecordBatch(input: Buffer, f: Frame, rb: RecordBatchMeta, schema: StreamSchema, dictionaries: Map<number, Dictionary>): EventBatch {
  const { type } = schema;
  const cur = new Cursor(input, f, rb, schema.nodeCount, schema.bufferCount, 'record batch');
  const cols: Columns = {};
  const valid: Validity = {};
  const paths = pathsOf(type);
  EVENT_TYPES[type].columns.forEach((s, i) => {
    const path = paths[i]!;
    const c = decodeColumn(cur, s, schema.fields[i]!, path, true, dictionaries);
    if (c.length !== rb.length) throw corrupt(`${path}: ${c.length} rows in a record batch of ${rb.length}`);
    cols[s.name] = c.col;
    if (c.valid) valid[s.name] = c.valid;
    if (s.type === 'Json') checkJson(path, c.col as StringData, rb.length);
  });
  return new EventBatch(type, rb.length, cols, valid, schema.v);
}

const columnPaths = new Map<EventType, string[]>();

/** `type.column` of every column, for errors (made once, not per batch). */
function pathsOf(type: EventType): string[] {
  let p = columnPaths.get(type);
  if (!p) columnPaths.set(type, (p = EVENT_TYPES[type].columns.map((s) => `${type}.${s.name}`)));
  return p;
}

interface Decoded {
  col: ColumnData;
  length: number;
  valid?: Uint8Array;
}

function decodeColumn(cur: Cursor, s: ColumnSpec, f: ArrowField, path: string, top: boolean, dictionaries: Map<number, Dictionary>): Decoded {
  const input = cur.input;
  const [n, nulls] = cur.nextNode(path);
  const validAt = cur.nextBuffer(nulls > 0 ? Math.ceil(n / 8) : 0, path, ' validity');
  let valid: Uint8Array | undefined;
  if (nulls > 0) {
    if (!top || !s.nullable) throw new BatchFormatError(`${path}: ${nulls} nulls in a column that is not nullable`);
    valid = unpackBits(input, validAt, n);
  }
  let col: ColumnData;
  if (f.dictionary && s.enum) {
    col = decodeEnum(cur, f, n, path, dictionaries);
  } else if (s.type === 'UInt64' || s.type === 'Timestamp') {
    col = decode64(cur, n, s.type === 'Timestamp', valid, path);
  } else if (isNumeric(s.type)) {
    const C = TYPED[s.type];
    col = typedAt(C, input, cur.nextBuffer(n * C.BYTES_PER_ELEMENT, path), n);
  } else if (isStringLike(s.type)) {
    col = decodeStrings(cur, n, path);
  } else if (s.type === 'List') {
    const o = decodeOffsets(cur, n, path);
    const items = decodeColumn(cur, s.of!, f.children[0]!, `${path}[]`, false, dictionaries);
    if (o[n]! > items.length) throw corrupt(`${path}: list offsets run past the ${items.length} items`);
    col = { offsets: o, items: items.col } satisfies ListData;
  } else {
    const fields: Record<string, ColumnData> = {};
    (s.fields ?? []).forEach((fs, i) => {
      const c = decodeColumn(cur, fs, f.children[i]!, `${path}.${fs.name}`, false, dictionaries);
      if (c.length !== n) throw corrupt(`${path}.${fs.name}: ${c.length} values in a struct of ${n}`);
      fields[fs.name] = c.col;
    });
    col = { fields } satisfies StructData;
  }
  return valid ? { col, length: n, valid } : { col, length: n };
}

interface TypedCtor<T> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

const TYPED: Record<Exclude<NumericType, 'UInt64' | 'Timestamp'>, TypedCtor<NumericArray>> = {
  UInt8: Uint8Array, UInt16: Uint16Array, UInt32: Uint32Array, Int32: Int32Array, Float32: Float32Array, Float64: Float64Array,
};

/** n elements at `at`: a view of the input when aligned for the type, else a copy. */
function typedAt<T extends ArrayBufferView>(C: TypedCtor<T>, input: Buffer, at: number, n: number): T {
  const abs = input.byteOffset + at;
  if (abs % C.BYTES_PER_ELEMENT === 0) return new C(input.buffer, abs, n);
  const a = new C(n);
  new Uint8Array(a.buffer).set(input.subarray(at, at + n * C.BYTES_PER_ELEMENT));
  return a;
}

// The hot loops of decoding are small functions of one array type each, so that V8 compiles them
// monomorphic (inside decodeColumn, which sees every type, they ran several times slower).

function unpackBits(src: Uint8Array, at: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (src[at + (i >>> 3)]! >>> (i & 7)) & 1;
  return out;
}

/** 64-bit integers as exact Float64 values; one beyond ±(2^53 - 1) is refused, not rounded. */
function decode64(cur: Cursor, n: number, signed: boolean, valid: Uint8Array | undefined, path: string): Float64Array {
  const at = cur.nextBuffer(8 * n, path);
  const out = new Float64Array(n);
  const i32 = signed ? typedAt(Int32Array, cur.input, at, 2 * n) : null;
  const u32 = signed ? null : typedAt(Uint32Array, cur.input, at, 2 * n);
  for (let i = 0; ; i++) {
    i = i32 ? fromInt64(i32, out, i) : fromUint64(u32!, out, i);
    if (i < 0) return out;
    // A null slot may hold anything; a value must fit.
    if (!valid || valid[i] !== 0) throw new BatchFormatError(`${path}: value at row ${i} does not fit in 53 bits (read exactly or not at all)`);
  }
}

/** Unsigned (lo, hi) words from row `from` into out; the row of the first value ≥ 2^53, or -1. */
function fromUint64(w: Uint32Array, out: Float64Array, from: number): number {
  for (let i = from; i < out.length; i++) {
    const hi = w[2 * i + 1]!;
    if (hi >= 0x200000) return i;
    out[i] = hi * TWO_32 + w[2 * i]!;
  }
  return -1;
}

/** Signed (lo, hi) words from row `from` into out; the row of the first beyond ±(2^53 - 1), or -1. */
function fromInt64(w: Int32Array, out: Float64Array, from: number): number {
  for (let i = from; i < out.length; i++) {
    const v = w[2 * i + 1]! * TWO_32 + (w[2 * i]! >>> 0);
    if (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER) return i;
    out[i] = v;
  }
  return -1;
}

/** The first row whose offset is below the one before, or -1. */
function backwardsAt(o: Int32Array, n: number): number {
  for (let i = 0; i < n; i++) if (o[i + 1]! < o[i]!) return i;
  return -1;
}

/** Offsets of n values (none at all is allowed for n = 0): non-negative, never going back. */
function decodeOffsets(cur: Cursor, n: number, path: string): Int32Array {
  const at = cur.nextBuffer(n > 0 ? 4 * (n + 1) : 0, path, ' offsets');
  if (n === 0 && cur.lastLength < 4) return new Int32Array(1);
  const o = typedAt(Int32Array, cur.input, at, n + 1);
  if (o[0]! < 0) throw corrupt(`${path}: negative offset`);
  const back = backwardsAt(o, n);
  if (back >= 0) throw corrupt(`${path}: offsets go backwards at row ${back}`);
  return o;
}

function decodeStrings(cur: Cursor, n: number, path: string): StringData {
  const input = cur.input;
  const o = decodeOffsets(cur, n, path);
  const base = o[0]!;
  const end = o[n]!;
  const at = cur.nextBuffer(end, path, ' data');
  const bytes = input.subarray(at + base, at + end);
  if (isAscii(bytes)) {
    let offsets = o;
    if (base !== 0) {
      offsets = new Int32Array(n + 1);
      for (let i = 0; i <= n; i++) offsets[i] = o[i]! - base;
    }
    return { data: input.toString('latin1', at + base, at + end), offsets, ascii: true };
  }
  if (!isUtf8(bytes)) throw corrupt(`${path} is not valid UTF-8`);
  // UTF-16 offsets: one unit per UTF-8 lead byte, two for a 4-byte sequence (a surrogate pair).
  const offsets = new Int32Array(n + 1);
  let units = 0;
  let p = 0;
  for (let i = 0; i <= n; i++) {
    for (const stop = o[i]! - base; p < stop; p++) {
      const c = bytes[p]!;
      if ((c & 0xc0) !== 0x80) units += c >= 0xf0 ? 2 : 1;
    }
    offsets[i] = units;
  }
  return { data: input.toString('utf8', at + base, at + end), offsets };
}

function decodeEnum(cur: Cursor, f: ArrowField, n: number, path: string, dictionaries: Map<number, Dictionary>): Uint8Array {
  const d = f.dictionary!;
  const dict = dictionaries.get(d.id);
  if (!dict) throw corrupt(`${path}: dictionary ${d.id} missing`);
  const size = d.indexBitWidth / 8;
  const at = cur.nextBuffer(n * size, path);
  const limit = dict.codes.length;
  if (size === 1 && dict.identity) {
    // Our own streams: the Int8 indices are the codes.
    const codes = new Uint8Array(cur.input.buffer, cur.input.byteOffset + at, n);
    for (let i = 0; i < n; i++) if (codes[i]! >= limit) throw corrupt(`${path}: dictionary index ${(codes[i]! << 24) >> 24} at row ${i} is not one of ${limit}`);
    return codes;
  }
  const C = size === 1 ? (d.indexSigned ? Int8Array : Uint8Array) : size === 2 ? (d.indexSigned ? Int16Array : Uint16Array) : d.indexSigned ? Int32Array : Uint32Array;
  const idx = typedAt<ArrayLike<number> & ArrayBufferView>(C, cur.input, at, n);
  const codes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = idx[i]!;
    if (!(k >= 0 && k < limit)) throw corrupt(`${path}: dictionary index ${k} at row ${i} is not one of ${limit}`);
    codes[i] = dict.codes[k]!;
  }
  return codes;
}

function decodeDictionary(input: Buffer, f: Frame, d: DictionaryBatchMeta, schema: StreamSchema): Dictionary {
  if (d.isDelta) throw unsupported('delta dictionary batch');
  const i = schema.fields.findIndex((x) => x.dictionary?.id === d.id);
  const s = EVENT_TYPES[schema.type].columns[i];
  if (!s || !s.enum) throw corrupt(`dictionary batch ${d.id} that no column uses`);
  const path = `${schema.type}.${s.name} dictionary`;
  const cur = new Cursor(input, f, d.data, 1, 3, path);
  const c = decodeColumn(cur, { name: s.name, type: 'String' }, { ...schema.fields[i]!, dictionary: null }, path, false, new Map());
  if (c.length !== d.data.length) throw corrupt(`${path}: ${c.length} labels in a batch of ${d.data.length}`);
  const labels = c.col as StringData;
  const codes = new Uint8Array(c.length);
  let identity = true;
  for (let k = 0; k < c.length; k++) {
    const label = labels.data.substring(labels.offsets[k]!, labels.offsets[k + 1]!);
    const code = s.enum.indexOf(label);
    if (code < 0) throw new BatchFormatError(`${schema.type}.${s.name}: dictionary label '${label}' is not one of ${s.enum.join(', ')}`);
    codes[k] = code;
    identity &&= code === k;
  }
  return { codes, identity };
}
