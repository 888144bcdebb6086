// Which partition an event goes to: Kafka's default partitioner — Java's murmur2 (seed 0x9747b28c)
// over the UTF-8 bytes of the key, `toPositive(h) % partitions` — which kafkajs' DefaultPartitioner
// and librdkafka's "murmur2_random" compute too, so a Java or librdkafka producer keying the same
// flow ids would pick the same partitions. The key is the event type's key column (table.ts): all
// events of a flow (its start/update/end records and its dns/tls/http events share the flowid)
// land on one partition, in order, with Arrow framing (rows grouped per partition) and with JSON
// framing (one message per event) alike.
//
// Flow ids and hosts are ASCII: the hash runs over the character codes of the batch's string
// column in place (no substring, no Buffer); a key with a non-ASCII character is encoded to UTF-8
// first. One pass per batch, an Int32Array of partitions out.
import { Buffer } from 'node:buffer';
import type { EventBatch } from '../events/batch.js';
import type { ListData, StringData } from '../events/columns.js';
import { EVENT_TYPES } from '../events/table.js';

const SEED = 0x9747b28c | 0;
const M = 0x5bd1e995;

function mixTail(h: number, b0: number, b1: number, b2: number, rest: number): number {
  if (rest === 0) return h;
  if (rest === 3) h ^= b2 << 16;
  if (rest >= 2) h ^= b1 << 8;
  h ^= b0;
  return Math.imul(h, M);
}

function finish(h: number): number {
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Java's `Utils.murmur2(byte[])`: a signed 32-bit hash. */
export function murmur2(bytes: Uint8Array): number {
  const len = bytes.length;
  const len4 = len & ~3;
  let h = SEED ^ len;
  for (let i = 0; i < len4; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  return finish(mixTail(h, bytes[len4] ?? 0, bytes[len4 + 1] ?? 0, bytes[len4 + 2] ?? 0, len & 3));
}

/** murmur2 of the UTF-8 bytes of `s.substring(a, b)`, without allocating when it is ASCII. */
export function murmur2String(s: string, a = 0, b = s.length): number {
  const len = b - a;
  const len4 = len & ~3;
  let h = SEED ^ len;
  let i = a;
  for (const end4 = a + len4; i < end4; i += 4) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 0x7f) return murmur2(Buffer.from(s.substring(a, b), 'utf8'));
    let k = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = len & 3;
  const c0 = rest > 0 ? s.charCodeAt(i) : 0;
  const c1 = rest > 1 ? s.charCodeAt(i + 1) : 0;
  const c2 = rest > 2 ? s.charCodeAt(i + 2) : 0;
  if ((c0 | c1 | c2) > 0x7f) return murmur2(Buffer.from(s.substring(a, b), 'utf8'));
  return finish(mixTail(h, c0, c1, c2, rest));
}

/** Kafka's `toPositive(murmur2(key)) % partitions`. */
export function partitionOfHash(hash: number, partitions: number): number {
  return (hash & 0x7fffffff) % partitions;
}

export function partitionOfKey(key: string, partitions: number): number {
  return partitionOfHash(murmur2String(key), partitions);
}

/**
 * Where the key of row i lies: in `data` from `start` to `end` (UTF-16 offsets). The key column
 * is a string column, or a list of strings (trigger `hosts`: its first item); null or an empty
 * list is the empty key.
 */
interface KeySource {
  data: string;
  /** Offsets into data, indexed by item. */
  offsets: Int32Array;
  /** For a list column: the list offsets (row → first item). */
  list: Int32Array | null;
  valid: Uint8Array | undefined;
}

function keySource(batch: EventBatch): KeySource {
  const name = EVENT_TYPES[batch.type].key;
  const c = batch.cols[name];
  const valid = batch.valid[name];
  if (c !== undefined && 'items' in c) {
    const items = (c as ListData).items as StringData;
    return { data: items.data, offsets: items.offsets, list: (c as ListData).offsets, valid };
  }
  const s = c as StringData;
  return { data: s.data, offsets: s.offsets, list: null, valid };
}

function keyRange(k: KeySource, i: number, out: Int32Array): void {
  if (k.valid !== undefined && k.valid[i] === 0) {
    out[0] = 0;
    out[1] = 0;
    return;
  }
  let j = i;
  if (k.list !== null) {
    j = k.list[i]!;
    if (k.list[i + 1]! <= j) {
      out[0] = 0;
      out[1] = 0;
      return;
    }
  }
  out[0] = k.offsets[j]!;
  out[1] = k.offsets[j + 1]!;
}

/** The key of row i (the value the JSON framing writes as the message key). */
export function keyOf(batch: EventBatch, i: number): string {
  return keyReader(batch)(i);
}

/** keyOf for many rows of one batch (the column is looked up once). */
export function keyReader(batch: EventBatch): (i: number) => string {
  const k = keySource(batch);
  const r = new Int32Array(2);
  return (i) => {
    keyRange(k, i, r);
    return k.data.substring(r[0]!, r[1]!);
  };
}

/** The partition of every row of `batch`, for a topic of `partitions` partitions. */
export function partitionsOf(batch: EventBatch, partitions: number): Int32Array {
  const out = new Int32Array(batch.length);
  if (partitions <= 1) return out;
  const k = keySource(batch);
  const r = new Int32Array(2);
  for (let i = 0; i < batch.length; i++) {
    keyRange(k, i, r);
    out[i] = partitionOfHash(murmur2String(k.data, r[0]!, r[1]!), partitions);
  }
  return out;
}
