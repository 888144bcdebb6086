// JSON framing: one JSON object per event (a Kafka message each with `kafka.format: json`, or a
// line of a JSONL file), shaped as the event interfaces in streams/schema.ts say, with `type` and
// `v` on every object. For third-party consumers (Spark, Kafka Connect, ksqlDB, jq) and files.
import { BatchFormatError } from '../errors.js';
import { EventBatch } from './batch.js';
import { EVENT_SCHEMA_VERSION, isEventType, type EventType } from './table.js';
import { viewClass } from './views.js';

/** One JSON text per event of the batch. */
export function encodeJson(b: EventBatch): string[] {
  const C = viewClass(b.type);
  const out = new Array<string>(b.length);
  for (let i = 0; i < b.length; i++) out[i] = JSON.stringify(new C(b, i));
  return out;
}

/** The events of the batch as JSON lines (each ends with '\n'). */
export function encodeJsonLines(b: EventBatch): string {
  const C = viewClass(b.type);
  let s = '';
  for (let i = 0; i < b.length; i++) s += JSON.stringify(new C(b, i)) + '\n';
  return s;
}

/**
 * The event a JSON text holds, checked: an object whose `type` is a known event type (or
 * `expected` when the text has none) and whose `v` this build can read. Throws BatchFormatError.
 */
export function parseEventJson(text: string, expected?: EventType): Record<string, unknown> & { type: EventType } {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new BatchFormatError(`not JSON: ${(e as Error).message}`);
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new BatchFormatError('JSON event is not an object');
  const r = o as Record<string, unknown>;
  const type = r.type ?? expected;
  if (typeof type !== 'string' || !isEventType(type)) throw new BatchFormatError(`unknown event type '${String(type)}'`);
  if (expected !== undefined && type !== expected) throw new BatchFormatError(`a ${type} event where ${expected} events belong`);
  const v = r.v ?? EVENT_SCHEMA_VERSION;
  if (v !== EVENT_SCHEMA_VERSION) throw new BatchFormatError(`${type} event of schema version ${String(v)}: this build reads version ${EVENT_SCHEMA_VERSION}`);
  return r as Record<string, unknown> & { type: EventType };
}

/** A batch of `type` from JSON texts (all of that type). */
export function decodeJson<T extends EventType>(type: T, texts: readonly string[]): EventBatch<T> {
  return EventBatch.fromRows(type, texts.map((t) => parseEventJson(t, type)));
}
