// Arrow IPC messages (the Message, Schema, RecordBatch and DictionaryBatch tables of the Arrow
// format's Message.fbs / Schema.fbs) built and read with the flatbuffers runtime, and the stream
// framing around them (continuation marker, metadata length, 8-byte padding, end-of-stream marker).
// Only what event batches need is written; the reader reads any well-formed message, but the
// flatbuffers JS runtime trusts every offset it follows (out-of-range reads give undefined → 0, a
// corrupt vector length can be 2^31), so every offset, vtable and vector length is checked here
// against the metadata bytes first: corrupt input ends in a BatchFormatError, never in garbage, an
// endless loop or a read outside the input.
import { Builder, ByteBuffer } from 'flatbuffers';
import { BatchFormatError } from '../errors.js';

// Enum values and union ids of Schema.fbs / Message.fbs.
export const METADATA_V4 = 3;
export const METADATA_V5 = 4;
export const HEADER_SCHEMA = 1;
export const HEADER_DICTIONARY_BATCH = 2;
export const HEADER_RECORD_BATCH = 3;
export const TYPE_INT = 2;
export const TYPE_FLOATING_POINT = 3;
export const TYPE_UTF8 = 5;
export const TYPE_TIMESTAMP = 10;
export const TYPE_LIST = 12;
export const TYPE_STRUCT = 13;
export const PRECISION_SINGLE = 1;
export const PRECISION_DOUBLE = 2;
export const TIME_UNIT_MICROSECOND = 2;

const TYPE_NAMES = [
  'NONE', 'Null', 'Int', 'FloatingPoint', 'Binary', 'Utf8', 'Bool', 'Decimal', 'Date', 'Time', 'Timestamp', 'Interval', 'List',
  'Struct', 'Union', 'FixedSizeBinary', 'FixedSizeList', 'Map', 'Duration', 'LargeBinary', 'LargeUtf8', 'LargeList',
  'RunEndEncoded', 'BinaryView', 'Utf8View', 'ListView', 'LargeListView',
];
const HEADER_NAMES = ['NONE', 'Schema', 'DictionaryBatch', 'RecordBatch', 'Tensor', 'SparseTensor'];
const TIME_UNITS = ['SECOND', 'MILLISECOND', 'MICROSECOND', 'NANOSECOND'];

/** The parameters of an Arrow type that event batches use (others are read only to be named in errors). */
export interface ArrowType {
  id: number;
  bitWidth?: number;
  signed?: boolean;
  precision?: number;
  unit?: number;
  timezone?: string | null;
}

export interface DictionaryEncoding {
  id: number;
  indexBitWidth: number;
  indexSigned: boolean;
}

export interface ArrowField {
  name: string;
  nullable: boolean;
  type: ArrowType;
  dictionary: DictionaryEncoding | null;
  children: ArrowField[];
  metadata: Record<string, string>;
}

export interface ArrowSchema {
  fields: ArrowField[];
  metadata: Record<string, string>;
}

/** A RecordBatch header: `nodes` holds (length, null_count) pairs, `buffers` (offset, length) pairs. */
export interface RecordBatchMeta {
  length: number;
  nodes: Float64Array;
  buffers: Float64Array;
  compressed: boolean;
}

export interface DictionaryBatchMeta {
  id: number;
  isDelta: boolean;
  data: RecordBatchMeta;
}

export type MessageHeader =
  | { kind: 'schema'; schema: ArrowSchema }
  | { kind: 'dictionary'; batch: DictionaryBatchMeta }
  | { kind: 'record'; batch: RecordBatchMeta };

/** One framed message of a stream: its header, where its body lies in the input, where the next begins. */
export interface Frame {
  header: MessageHeader;
  bodyStart: number;
  bodyLength: number;
  next: number;
}

export function corrupt(what: string): BatchFormatError {
  return new BatchFormatError(`corrupt Arrow payload: ${what}`);
}

export function unsupported(what: string): BatchFormatError {
  return new BatchFormatError(`unsupported Arrow stream: ${what}`);
}

export function pad8(n: number): number {
  return (n + 7) & ~7;
}

export function describeType(t: ArrowType): string {
  switch (t.id) {
    case TYPE_INT: return `Int(${t.bitWidth}, ${t.signed ? 'signed' : 'unsigned'})`;
    case TYPE_FLOATING_POINT: return `FloatingPoint(${['HALF', 'SINGLE', 'DOUBLE'][t.precision ?? 0] ?? t.precision})`;
    case TYPE_TIMESTAMP: return `Timestamp(${TIME_UNITS[t.unit ?? 0] ?? t.unit}${t.timezone ? `, ${t.timezone}` : ''})`;
    default: return TYPE_NAMES[t.id] ?? `type ${t.id}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Building

function offsetVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

function keyValues(b: Builder, md: Record<string, string>): number {
  const kvs = Object.entries(md).map(([k, v]) => {
    const key = b.createString(k);
    const value = b.createString(v);
    b.startObject(2);
    b.addFieldOffset(0, key, 0);
    b.addFieldOffset(1, value, 0);
    return b.endObject();
  });
  return offsetVector(b, kvs);
}

function typeTable(b: Builder, t: ArrowType): number {
  switch (t.id) {
    case TYPE_INT:
      b.startObject(2);
      b.addFieldInt32(0, t.bitWidth ?? 0, 0);
      b.addFieldInt8(1, t.signed ? 1 : 0, 0);
      return b.endObject();
    case TYPE_FLOATING_POINT:
      b.startObject(1);
      b.addFieldInt16(0, t.precision ?? 0, 0);
      return b.endObject();
    case TYPE_TIMESTAMP: {
      const tz = t.timezone ? b.createString(t.timezone) : 0;
      b.startObject(2);
      b.addFieldInt16(0, t.unit ?? 0, 0);
      if (tz) b.addFieldOffset(1, tz, 0);
      return b.endObject();
    }
    default: // Utf8, List, Struct_: tables without fields
      b.startObject(0);
      return b.endObject();
  }
}

function fieldTable(b: Builder, f: ArrowField): number {
  const name = b.createString(f.name);
  const type = typeTable(b, f.type);
  let dictionary = 0;
  if (f.dictionary) {
    const indexType = typeTable(b, { id: TYPE_INT, bitWidth: f.dictionary.indexBitWidth, signed: f.dictionary.indexSigned });
    b.startObject(4);
    b.addFieldInt64(0, BigInt(f.dictionary.id), 0n);
    b.addFieldOffset(1, indexType, 0);
    dictionary = b.endObject();
  }
  // Arrow C++ refuses a Field without a children vector, even an empty one.
  const children = offsetVector(b, f.children.map((c) => fieldTable(b, c)));
  const metadata = Object.keys(f.metadata).length > 0 ? keyValues(b, f.metadata) : 0;
  b.startObject(7);
  b.addFieldOffset(0, name, 0);
  b.addFieldInt8(1, f.nullable ? 1 : 0, 0);
  b.addFieldInt8(2, f.type.id, 0);
  b.addFieldOffset(3, type, 0);
  if (dictionary) b.addFieldOffset(4, dictionary, 0);
  b.addFieldOffset(5, children, 0);
  if (metadata) b.addFieldOffset(6, metadata, 0);
  return b.endObject();
}

/** Writes a 64-bit struct member without a BigInt (the builder writes backwards: high word first). */
function putInt64(b: Builder, v: number): void {
  b.writeInt32(Math.floor(v / 4294967296));
  b.writeInt32(v >>> 0);
}

/** A vector of two-long structs (FieldNode, Buffer) from flat pairs. */
function pairVector(b: Builder, pairs: ArrayLike<number>): number {
  b.startVector(16, pairs.length >> 1, 8);
  for (let i = pairs.length - 2; i >= 0; i -= 2) {
    b.prep(8, 16);
    putInt64(b, pairs[i + 1]!);
    putInt64(b, pairs[i]!);
  }
  return b.endVector();
}

function recordBatchTable(b: Builder, length: number, nodes: ArrayLike<number>, buffers: ArrayLike<number>): number {
  const nv = pairVector(b, nodes);
  const bv = pairVector(b, buffers);
  b.startObject(5);
  b.addFieldInt64(0, BigInt(length), 0n);
  b.addFieldOffset(1, nv, 0);
  b.addFieldOffset(2, bv, 0);
  return b.endObject();
}

function finishMessage(b: Builder, headerType: number, header: number, bodyLength: number): Uint8Array {
  b.startObject(5);
  b.addFieldInt16(0, METADATA_V5, 0);
  b.addFieldInt8(1, headerType, 0);
  b.addFieldOffset(2, header, 0);
  b.addFieldInt64(3, BigInt(bodyLength), 0n);
  b.finish(b.endObject());
  return b.asUint8Array();
}

/** The metadata flatbuffer of a Schema message. */
export function schemaMessage(s: ArrowSchema): Uint8Array {
  const b = new Builder(4096);
  const fields = offsetVector(b, s.fields.map((f) => fieldTable(b, f)));
  const metadata = keyValues(b, s.metadata);
  b.startObject(4);
  b.addFieldOffset(1, fields, 0); // endianness: Little is the default
  b.addFieldOffset(2, metadata, 0);
  return finishMessage(b, HEADER_SCHEMA, b.endObject(), 0);
}

/** The metadata flatbuffer of a RecordBatch message. */
export function recordBatchMessage(length: number, nodes: ArrayLike<number>, buffers: ArrayLike<number>, bodyLength: number): Uint8Array {
  const b = new Builder(64 + 16 * (nodes.length + buffers.length));
  return finishMessage(b, HEADER_RECORD_BATCH, recordBatchTable(b, length, nodes, buffers), bodyLength);
}

/** The metadata flatbuffer of a DictionaryBatch message (never a delta). */
export function dictionaryBatchMessage(id: number, length: number, nodes: ArrayLike<number>, buffers: ArrayLike<number>, bodyLength: number): Uint8Array {
  const b = new Builder(256);
  const data = recordBatchTable(b, length, nodes, buffers);
  b.startObject(3);
  b.addFieldInt64(0, BigInt(id), 0n);
  b.addFieldOffset(1, data, 0);
  return finishMessage(b, HEADER_DICTIONARY_BATCH, b.endObject(), bodyLength);
}

/** Bytes the framed metadata takes: continuation marker, length, metadata padded to 8. */
export function framedSize(meta: Uint8Array): number {
  return 8 + pad8(meta.length);
}

/** Writes the framed metadata at `at` (zero padding included); returns where the body starts. */
export function writeFrame(dst: Uint8Array, at: number, meta: Uint8Array): number {
  const padded = pad8(meta.length);
  writeUint32(dst, at, 0xffffffff);
  writeUint32(dst, at + 4, padded);
  dst.set(meta, at + 8);
  dst.fill(0, at + 8 + meta.length, at + 8 + padded);
  return at + 8 + padded;
}

/** Writes the end-of-stream marker (continuation, then a zero length) at `at`. */
export function writeEos(dst: Uint8Array, at: number): void {
  writeUint32(dst, at, 0xffffffff);
  writeUint32(dst, at + 4, 0);
}

function writeUint32(dst: Uint8Array, at: number, v: number): void {
  dst[at] = v;
  dst[at + 1] = v >>> 8;
  dst[at + 2] = v >>> 16;
  dst[at + 3] = v >>> 24;
}

function readUint32(src: Uint8Array, at: number): number {
  return (src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Fields nested deeper than this, or more fields than this in all, are refused (ours: 3 and ~70). */
const MAX_DEPTH = 8;
const MAX_FIELDS = 4096;

/** A flatbuffer table whose vtable and inline size were checked to lie within the metadata. */
class Table {
  private constructor(
    private readonly bb: ByteBuffer,
    private readonly pos: number,
    private readonly vt: number,
    private readonly vtSize: number,
    private readonly size: number,
    private readonly what: string,
  ) {}

  static at(bb: ByteBuffer, pos: number, what: string): Table {
    const cap = bb.capacity();
    if (pos < 0 || pos + 4 > cap) throw corrupt(`${what} lies outside the message metadata`);
    const vt = pos - bb.readInt32(pos);
    if (vt < 0 || vt + 4 > cap || (vt & 1) !== 0) throw corrupt(`${what} has its vtable outside the message metadata`);
    const vtSize = bb.readUint16(vt);
    const size = bb.readUint16(vt + 2);
    if (vtSize < 4 || (vtSize & 1) !== 0 || vt + vtSize > cap || size < 4 || pos + size > cap) throw corrupt(`${what} has a bad vtable`);
    return new Table(bb, pos, vt, vtSize, size, what);
  }

  /** Absolute position of field `slot` of `width` bytes, or -1 when it is absent (default). */
  private field(slot: number, width: number): number {
    const v = 4 + 2 * slot;
    if (v + 2 > this.vtSize) return -1;
    const o = this.bb.readUint16(this.vt + v);
    if (o === 0) return -1;
    if (o < 4 || o + width > this.size) throw corrupt(`${this.what} slot ${slot} lies outside its table`);
    return this.pos + o;
  }

  int8(slot: number, def: number): number {
    const p = this.field(slot, 1);
    return p < 0 ? def : this.bb.readInt8(p);
  }

  int16(slot: number, def: number): number {
    const p = this.field(slot, 2);
    return p < 0 ? def : this.bb.readInt16(p);
  }

  int32(slot: number, def: number): number {
    const p = this.field(slot, 4);
    return p < 0 ? def : this.bb.readInt32(p);
  }

  /** A non-negative long below 2^53 (lengths, counts, offsets, ids). */
  int64(slot: number, name: string): number {
    const p = this.field(slot, 8);
    if (p < 0) return 0;
    const v = readCount(this.bb, p);
    if (v < 0) throw corrupt(`${this.what} ${name} is out of range`);
    return v;
  }

  /** Where the uoffset of field `slot` points, checked to leave `atLeast` bytes; -1 when absent. */
  private target(slot: number, atLeast: number): number {
    const p = this.field(slot, 4);
    if (p < 0) return -1;
    const t = p + this.bb.readUint32(p);
    if (t + atLeast > this.bb.capacity()) throw corrupt(`${this.what} slot ${slot} points outside the message metadata`);
    return t;
  }

  table(slot: number, what: string): Table | null {
    const t = this.target(slot, 4);
    return t < 0 ? null : Table.at(this.bb, t, what);
  }

  string(slot: number): string | null {
    const t = this.target(slot, 4);
    if (t < 0) return null;
    const n = this.bb.readUint32(t);
    if (t + 4 + n > this.bb.capacity()) throw corrupt(`${this.what} has a string running past the message metadata`);
    return DECODER.decode(this.bb.bytes().subarray(t + 4, t + 4 + n));
  }

  /** Position and length of a vector of `width`-byte elements, checked to lie within the metadata. */
  vector(slot: number, width: number): { at: number; length: number } | null {
    const t = this.target(slot, 4);
    if (t < 0) return null;
    const length = this.bb.readUint32(t);
    if (t + 4 + length * width > this.bb.capacity()) throw corrupt(`${this.what} has a vector of ${length} running past the message metadata`);
    return { at: t + 4, length };
  }

  tables(slot: number, what: string): Table[] {
    const v = this.vector(slot, 4);
    if (!v) return [];
    const out = new Array<Table>(v.length);
    for (let i = 0; i < v.length; i++) {
      const e = v.at + 4 * i;
      out[i] = Table.at(this.bb, e + this.bb.readUint32(e), what);
    }
    return out;
  }

  /** The (long, long) struct pairs of a FieldNode or Buffer vector. */
  pairs(slot: number, name: string): Float64Array {
    const v = this.vector(slot, 16);
    if (!v) return new Float64Array(0);
    const out = new Float64Array(2 * v.length);
    for (let i = 0; i < out.length; i++) {
      const x = readCount(this.bb, v.at + 8 * i);
      if (x < 0) throw corrupt(`${this.what} ${name} is out of range`);
      out[i] = x;
    }
    return out;
  }
}

const DECODER = new TextDecoder();

/** The long at p if it is in [0, 2^53), else -1. */
function readCount(bb: ByteBuffer, p: number): number {
  const hi = bb.readInt32(p + 4);
  return hi < 0 || hi >= 0x200000 ? -1 : hi * 4294967296 + bb.readUint32(p);
}

function readMetadata(t: Table, slot: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of t.tables(slot, 'KeyValue')) {
    const k = kv.string(0);
    if (k !== null) out[k] = kv.string(1) ?? '';
  }
  return out;
}

function readType(typeId: number, t: Table | null): ArrowType {
  switch (typeId) {
    case TYPE_INT: return { id: typeId, bitWidth: t?.int32(0, 0) ?? 0, signed: (t?.int8(1, 0) ?? 0) !== 0 };
    case TYPE_FLOATING_POINT: return { id: typeId, precision: t?.int16(0, 0) ?? 0 };
    case TYPE_TIMESTAMP: return { id: typeId, unit: t?.int16(0, 0) ?? 0, timezone: t?.string(1) ?? null };
    default: return { id: typeId };
  }
}

function readField(t: Table, depth: number, count: { n: number }): ArrowField {
  if (depth > MAX_DEPTH) throw corrupt(`schema fields nested deeper than ${MAX_DEPTH}`);
  if (++count.n > MAX_FIELDS) throw corrupt(`schema has more than ${MAX_FIELDS} fields`);
  const typeId = t.int8(2, 0) & 0xff;
  const type = readType(typeId, t.table(3, 'Field.type'));
  let dictionary: DictionaryEncoding | null = null;
  const d = t.table(4, 'DictionaryEncoding');
  if (d) {
    const index = d.table(1, 'DictionaryEncoding.indexType');
    // No indexType means signed 32-bit indices (Schema.fbs).
    dictionary = { id: d.int64(0, 'id'), indexBitWidth: index ? index.int32(0, 0) : 32, indexSigned: index ? index.int8(1, 0) !== 0 : true };
  }
  return {
    name: t.string(0) ?? '',
    nullable: t.int8(1, 0) !== 0,
    type,
    dictionary,
    children: t.tables(5, 'Field').map((c) => readField(c, depth + 1, count)),
    metadata: readMetadata(t, 6),
  };
}

function readSchema(t: Table): ArrowSchema {
  if (t.int16(0, 0) !== 0) throw unsupported('big-endian data');
  const count = { n: 0 };
  return { fields: t.tables(1, 'Field').map((f) => readField(f, 1, count)), metadata: readMetadata(t, 2) };
}

function readRecordBatch(t: Table): RecordBatchMeta {
  return {
    length: t.int64(0, 'length'),
    nodes: t.pairs(1, 'field node'),
    buffers: t.pairs(2, 'buffer'),
    compressed: t.table(3, 'BodyCompression') !== null,
  };
}

/**
 * The message framed at `pos` of `bytes`, or null at the end-of-stream marker or the end of the
 * input. Checks the continuation marker, that the metadata and body lie within the input, and the
 * metadata version; reads the header (Schema, DictionaryBatch or RecordBatch; others refused).
 */
export function readFrame(bytes: Uint8Array, pos: number): Frame | null {
  const len = bytes.length;
  if (pos === len) return null;
  if (pos + 8 > len) throw corrupt(`truncated: ${len - pos} bytes where a message starts (8 needed for its prefix)`);
  const marker = readUint32(bytes, pos);
  if (marker !== 0xffffffff) throw corrupt(`expected the continuation marker 0xFFFFFFFF at byte ${pos}, found 0x${marker.toString(16).toUpperCase().padStart(8, '0')}`);
  const metaLength = readUint32(bytes, pos + 4);
  if (metaLength === 0) return null;
  const metaStart = pos + 8;
  if (metaLength > len - metaStart) throw corrupt(`truncated: message metadata of ${metaLength} bytes at byte ${pos}, ${len - metaStart} left`);
  const bb = new ByteBuffer(bytes.subarray(metaStart, metaStart + metaLength));
  const root = bb.readUint32(0);
  const m = Table.at(bb, root, 'Message');
  const version = m.int16(0, 0);
  if (version !== METADATA_V4 && version !== METADATA_V5) throw unsupported(`metadata version V${version + 1} (V4 and V5 are read)`);
  const headerType = m.int8(1, 0) & 0xff;
  const bodyLength = m.int64(3, 'bodyLength');
  const bodyStart = metaStart + metaLength;
  if (bodyLength > len - bodyStart) throw corrupt(`truncated: message body of ${bodyLength} bytes at byte ${bodyStart}, ${len - bodyStart} left`);
  const h = m.table(2, HEADER_NAMES[headerType] ?? 'header');
  let header: MessageHeader;
  if (headerType === HEADER_SCHEMA && h) header = { kind: 'schema', schema: readSchema(h) };
  else if (headerType === HEADER_RECORD_BATCH && h) header = { kind: 'record', batch: readRecordBatch(h) };
  else if (headerType === HEADER_DICTIONARY_BATCH && h) {
    const data = h.table(1, 'RecordBatch');
    if (!data) throw corrupt('dictionary batch without data');
    header = { kind: 'dictionary', batch: { id: h.int64(0, 'id'), isDelta: h.int8(2, 0) !== 0, data: readRecordBatch(data) } };
  } else if (!h && headerType >= 1 && headerType <= 3) throw corrupt(`${HEADER_NAMES[headerType]} message without its header`);
  else throw unsupported(`${HEADER_NAMES[headerType] ?? `header type ${headerType}`} message`);
  return { header, bodyStart, bodyLength, next: bodyStart + bodyLength };
}
