// Kafka messages of event batches, and back.
//
// `arrow` (default): per partition ONE Arrow IPC stream message holding that partition's rows in
// batch order — encodeArrow(batch, rows) gathers them straight from the batch's columns, the batch
// is not copied first. A partition's share larger than `maxMessageBytes` (estimated from the
// column sizes, checked after encoding) is split into several messages, so every message, and so
// every record batch a produce request holds per partition, stays under the broker's 1 MB default
// whatever the compression. Headers: content-type, damselfly-type, damselfly-v, damselfly-events
// (rows) and damselfly-batch: a stable id (producer instance UUID + sequence number) assigned when
// the message is made, so a re-send carries the same id and a sink can drop a redelivery.
// `json`: one message per event (encodeJson), keyed by the type's key column, partitioned by the
// same function (partition.ts), for consumers that only speak JSON.
//
// decodeMessage reads either (by content-type header, else by sniffing: an Arrow stream starts with
// the 0xFFFFFFFF continuation marker, a JSON event with `{`), and refuses with one BatchFormatError
// line anything it cannot take: no value, another schema version, an event type that does not
// belong on the topic, a corrupt payload.
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { decodeArrow, encodeArrow } from '../events/arrow.js';
import type { EventBatch } from '../events/batch.js';
import type { ColumnData, ColumnSpec, ListData, NumericType, StringData, StructData } from '../events/columns.js';
import { isNumeric, isStringLike } from '../events/columns.js';
import { encodeJson, parseEventJson } from '../events/json.js';
import { EVENT_SCHEMA_VERSION, EVENT_TYPES, typeOfTopic, type EventType } from '../events/table.js';
import { BatchFormatError } from '../errors.js';
import type { KafkaFormat } from './options.js';
import { keyReader, partitionsOf } from './partition.js';

export const ARROW_CONTENT_TYPE = 'application/vnd.apache.arrow.stream';
export const JSON_CONTENT_TYPE = 'application/json';

export const HEADER = {
  contentType: 'content-type',
  type: 'damselfly-type',
  version: 'damselfly-v',
  events: 'damselfly-events',
  batch: 'damselfly-batch',
} as const;

/** A message ready for the producer (the topic is the producer's business). */
export interface OutMessage {
  partition: number;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  /** Events it carries. */
  events: number;
}

/** Ids of the messages of one producer instance: `<uuid>-<n>`. */
export class MessageIds {
  private seq = 0;
  constructor(readonly prefix: string = randomUUID()) {}

  next(): string {
    return `${this.prefix}-${++this.seq}`;
  }
}

/** Room kept in a message for the Arrow schema, the dictionaries, metadata and padding. */
const ARROW_OVERHEAD = 16 * 1024;

const WIDTH: Readonly<Record<NumericType, number>> = {
  UInt8: 1, UInt16: 2, UInt32: 4, Int32: 4, Float32: 4, UInt64: 8, Float64: 8, Timestamp: 8,
};

/** Approximate encoded bytes of rows [a, b) of a column (strings count UTF-16 units). */
function rangeBytes(s: ColumnSpec, c: ColumnData, a: number, b: number): number {
  if (isNumeric(s.type)) return WIDTH[s.type] * (b - a);
  if (isStringLike(s.type)) {
    const o = (c as StringData).offsets;
    return o[b]! - o[a]! + 4 * (b - a);
  }
  if (s.type === 'List') {
    const l = c as ListData;
    return 4 * (b - a) + rangeBytes(s.of!, l.items, l.offsets[a]!, l.offsets[b]!);
  }
  let n = 0;
  for (const f of s.fields ?? []) n += rangeBytes(f, (c as StructData).fields[f.name]!, a, b);
  return n;
}

function batchBytes(batch: EventBatch): number {
  let n = 0;
  for (const s of EVENT_TYPES[batch.type].columns) n += rangeBytes(s, batch.cols[s.name]!, 0, batch.length);
  return n;
}

/** Estimated bytes of `batch` once encoded (the producer's buffer bound before the partitions are known). */
export function estimateBytes(batch: EventBatch, format: KafkaFormat): number {
  // JSON repeats every field name and quotes strings: about twice the columns.
  return format === 'json' ? 2 * batchBytes(batch) + 64 * batch.length : batchBytes(batch) + ARROW_OVERHEAD;
}

function rowBytes(batch: EventBatch): Float64Array {
  const n = batch.length;
  const out = new Float64Array(n);
  // Fixed-width columns add the same to every row: summed once. Strings (most of the variable
  // part) straight from their offsets; lists and structs through rangeBytes.
  let fixed = 0;
  for (const s of EVENT_TYPES[batch.type].columns) {
    const c = batch.cols[s.name]!;
    if (isNumeric(s.type)) fixed += WIDTH[s.type];
    else if (isStringLike(s.type)) {
      const o = (c as StringData).offsets;
      for (let i = 0; i < n; i++) out[i] += o[i + 1]! - o[i]!;
      fixed += 4;
    } else for (let i = 0; i < n; i++) out[i] += rangeBytes(s, c, i, i + 1);
  }
  for (let i = 0; i < n; i++) out[i] += fixed;
  return out;
}

/**
 * The messages of `batch` for a topic of `partitions` partitions: per partition one Arrow message
 * (or several, each under maxMessageBytes), or one JSON message per event. In partition order for
 * Arrow, in event order for JSON; per partition always in batch order.
 */
export function encodeMessages(batch: EventBatch, partitions: number, format: KafkaFormat, maxMessageBytes: number, ids: MessageIds): OutMessage[] {
  if (batch.length === 0) return [];
  return format === 'json' ? encodeJsonMessages(batch, partitions) : encodeArrowMessages(batch, partitions, maxMessageBytes, ids);
}

function encodeJsonMessages(batch: EventBatch, partitions: number): OutMessage[] {
  const texts = encodeJson(batch);
  const part = partitionsOf(batch, partitions);
  const key = keyReader(batch);
  const out = new Array<OutMessage>(texts.length);
  for (let i = 0; i < texts.length; i++) {
    out[i] = { partition: part[i]!, key: key(i), value: Buffer.from(texts[i]!, 'utf8'), headers: { [HEADER.contentType]: JSON_CONTENT_TYPE }, events: 1 };
  }
  return out;
}

function encodeArrowMessages(batch: EventBatch, partitions: number, maxMessageBytes: number, ids: MessageIds): OutMessage[] {
  const n = batch.length;
  const part = partitionsOf(batch, partitions);
  const counts = new Int32Array(partitions);
  for (let i = 0; i < n; i++) counts[part[i]!]++;
  // Rows grouped by partition, batch order kept within each (a counting sort).
  const starts = new Int32Array(partitions + 1);
  for (let p = 0; p < partitions; p++) starts[p + 1] = starts[p]! + counts[p]!;
  const order = new Int32Array(n);
  const fill = starts.slice(0, partitions);
  for (let i = 0; i < n; i++) order[fill[part[i]!]++] = i;

  const budget = maxMessageBytes - ARROW_OVERHEAD;
  const sizes = batchBytes(batch) > budget ? rowBytes(batch) : null;
  const key = keyReader(batch);
  const out: OutMessage[] = [];
  const emit = (p: number, rows: Int32Array): void => {
    const whole = rows.length === n;
    const u8 = encodeArrow(batch, whole ? undefined : rows);
    if (u8.length > maxMessageBytes && rows.length > 1) {
      // The estimate was short (non-ASCII strings, skewed rows): halve and try again.
      const half = rows.length >> 1;
      emit(p, rows.subarray(0, half));
      emit(p, rows.subarray(half));
      return;
    }
    out.push({
      partition: p,
      key: key(rows[0]!),
      value: Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength),
      headers: {
        [HEADER.contentType]: ARROW_CONTENT_TYPE,
        [HEADER.type]: batch.type,
        [HEADER.version]: String(batch.v),
        [HEADER.events]: String(rows.length),
        [HEADER.batch]: ids.next(),
      },
      events: rows.length,
    });
  };
  for (let p = 0; p < partitions; p++) {
    const rows = order.subarray(starts[p]!, starts[p + 1]!);
    if (rows.length === 0) continue;
    if (sizes === null) {
      emit(p, rows);
      continue;
    }
    let from = 0;
    let acc = 0;
    for (let j = 0; j < rows.length; j++) {
      const b = sizes[rows[j]!]!;
      if (j > from && acc + b > budget) {
        emit(p, rows.subarray(from, j));
        from = j;
        acc = 0;
      }
      acc += b;
    }
    emit(p, rows.subarray(from));
  }
  return out;
}

export type Decoded =
  | { format: 'arrow'; batch: EventBatch; id: string | undefined }
  | { format: 'json'; event: Record<string, unknown> & { type: EventType } };

/** Events a message says it carries (damselfly-events), 1 when it does not say. */
export function eventsOf(headers: Map<string, string> | undefined): number {
  const n = Number(headers?.get(HEADER.events));
  return Number.isInteger(n) && n > 0 ? n : 1;
}

function sniff(value: Buffer): KafkaFormat {
  if (value.length >= 4 && value.readUInt32LE(0) === 0xffffffff) return 'arrow';
  for (let i = 0; i < value.length && i < 64; i++) {
    const c = value[i]!;
    if (c === 0x7b) return 'json';
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0xef && c !== 0xbb && c !== 0xbf) break;
  }
  throw new BatchFormatError(`neither an Arrow IPC stream nor a JSON event (starts with 0x${value.subarray(0, 4).toString('hex')})`);
}

/**
 * The events of one consumed message of `topic`. Throws BatchFormatError (one line) when it cannot
 * be read, or holds events of another type than the topic's (a topic whose name is not one of the
 * table's takes any type).
 */
export function decodeMessage(topic: string, value: Buffer | null | undefined, headers: Map<string, string> | undefined): Decoded {
  if (!value || value.length === 0) throw new BatchFormatError('empty message (no value)');
  const expected = typeOfTopic(topic);
  const ht = headers?.get(HEADER.type);
  if (ht !== undefined && expected !== undefined && ht !== expected) throw new BatchFormatError(`a ${ht} message where ${expected} events belong`);
  const hv = headers?.get(HEADER.version);
  if (hv !== undefined && Number(hv) !== EVENT_SCHEMA_VERSION) {
    throw new BatchFormatError(`${ht ?? expected ?? 'event'} message of schema version ${hv}: this build reads version ${EVENT_SCHEMA_VERSION}`);
  }
  const ct = headers?.get(HEADER.contentType)?.split(';')[0]!.trim().toLowerCase();
  let format: KafkaFormat;
  if (ct === undefined || ct === '') format = sniff(value);
  else if (ct === ARROW_CONTENT_TYPE) format = 'arrow';
  else if (ct === JSON_CONTENT_TYPE) format = 'json';
  else throw new BatchFormatError(`unsupported content-type '${ct}'`);
  if (format === 'arrow') return { format, batch: decodeArrow(value, expected), id: headers?.get(HEADER.batch) };
  return { format, event: parseEventJson(value.toString('utf8'), expected) };
}
