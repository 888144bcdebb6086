// EventBatch: the unit that travels — events of one type, laid out by column (see columns.ts).
// Sources build them from native columns (the sensor) or from objects (alerts, stats, JSON input);
// transports carry them whole or sliced; sinks and the sandboxes read the columns; everyone else
// reads rows through views (`get(i)`, iteration) or plain objects (`rows()`).
import { ARRAY_OF, isNumeric, isStringLike, type ColumnData, type ColumnSpec, type Columns, type ListData, type StringData, type StructData, type Validity } from './columns.js';
import { columnsOf, sliceColumn } from './build.js';
import { EVENT_SCHEMA_VERSION, EVENT_TYPES, isEventType, type EventType } from './table.js';
import { toObjects, viewClass, type BatchData } from './views.js';
import { BatchFormatError } from '../errors.js';
import type { EventOf } from '../schema.js';

export class EventBatch<T extends EventType = EventType> implements BatchData {
  readonly type: T;
  readonly length: number;
  readonly cols: Columns;
  readonly valid: Validity;
  readonly v: number;
  /**
   * Where the batch came from, the same when it is delivered again (a transport's redelivery):
   * Kafka gives the message's damselfly-batch id (or topic/partition/offsets), plus `[a:b]` for a
   * slice of a message. Undefined when the source does not redeliver (the embedded transport
   * hands a failed batch's handler the very same object again). Sinks use it to drop redeliveries.
   */
  origin: string | undefined;

  /** Wraps columns as they are (see `check` for input that was not built here). */
  constructor(type: T, length: number, cols: Columns, valid: Validity = {}, v = EVENT_SCHEMA_VERSION) {
    this.type = type;
    this.length = length;
    this.cols = cols;
    this.valid = valid;
    this.v = v;
    this.origin = undefined;
  }

  /** A batch of `rows` (plain objects shaped like the type's events). */
  static fromRows<T extends EventType>(type: T, rows: readonly unknown[]): EventBatch<T> {
    const { cols, valid } = columnsOf(type, rows);
    return new EventBatch(type, rows.length, cols, valid);
  }

  static empty<T extends EventType>(type: T): EventBatch<T> {
    return EventBatch.fromRows(type, []);
  }

  /**
   * Wraps columns that came from elsewhere (the native sensor, a decoder, a sandbox) after checking
   * that every column of the type is there with the right representation and length; throws
   * BatchFormatError naming the first problem.
   */
  static check(d: { type: string; length: number; cols: Columns; valid?: Validity; v?: number }): EventBatch {
    if (!isEventType(d.type)) throw new BatchFormatError(`unknown event type '${d.type}'`);
    const v = d.v ?? EVENT_SCHEMA_VERSION;
    if (v !== EVENT_SCHEMA_VERSION) throw new BatchFormatError(`${d.type} batch of schema version ${v}: this build reads version ${EVENT_SCHEMA_VERSION}`);
    if (!Number.isInteger(d.length) || d.length < 0) throw new BatchFormatError(`${d.type} batch: bad length ${d.length}`);
    for (const s of EVENT_TYPES[d.type].columns) {
      const c = d.cols[s.name];
      if (c === undefined) throw new BatchFormatError(`${d.type} batch: column ${s.name} missing`);
      checkColumn(`${d.type}.${s.name}`, s, c, d.length);
      const val = d.valid?.[s.name];
      if (val !== undefined && (!s.nullable || !(val instanceof Uint8Array) || val.length !== d.length)) {
        throw new BatchFormatError(`${d.type}.${s.name}: bad validity (${s.nullable ? `expected ${d.length} bytes` : 'column is not nullable'})`);
      }
    }
    return new EventBatch(d.type, d.length, d.cols, d.valid ?? {}, v);
  }

  /** Row i as a read-only view (fields decoded when read). */
  get(i: number): EventOf<T> {
    return new (viewClass(this.type))(this, i) as unknown as EventOf<T>;
  }

  *[Symbol.iterator](): IterableIterator<EventOf<T>> {
    const C = viewClass(this.type);
    for (let i = 0; i < this.length; i++) yield new C(this, i) as unknown as EventOf<T>;
  }

  /** Every row as a plain object. */
  rows(): EventOf<T>[] {
    return toObjects(this) as unknown as EventOf<T>[];
  }

  /** Rows [start, end) sharing this batch's memory. */
  slice(start = 0, end = this.length): EventBatch<T> {
    const a = Math.max(0, Math.min(start, this.length));
    const b = Math.max(a, Math.min(end, this.length));
    if (a === 0 && b === this.length) return this;
    const cols: Columns = {};
    for (const [k, c] of Object.entries(this.cols)) cols[k] = sliceColumn(c, a, b);
    const valid: Validity = {};
    for (const [k, m] of Object.entries(this.valid)) valid[k] = m.subarray(a, b);
    const s = new EventBatch(this.type, b - a, cols, valid, this.v);
    if (this.origin !== undefined) s.origin = `${this.origin}[${a}:${b}]`;
    return s;
  }

  column<C extends ColumnData = ColumnData>(name: string): C {
    const c = this.cols[name];
    if (c === undefined) throw new BatchFormatError(`${this.type} batch has no column ${name}`);
    return c as C;
  }

  /** String value of column `name` at row i ('' for null). */
  str(name: string, i: number): string {
    const c = this.cols[name] as StringData;
    return c.data.substring(c.offsets[i]!, c.offsets[i + 1]!);
  }

  /** Whether row i of a nullable column holds a value. */
  has(name: string, i: number): boolean {
    const m = this.valid[name];
    return m === undefined || m[i] !== 0;
  }
}

function checkColumn(path: string, s: ColumnSpec, c: ColumnData, n: number): void {
  if (isNumeric(s.type)) {
    if (!(c instanceof ARRAY_OF[s.type]) || (c as ArrayLike<number>).length !== n) {
      throw new BatchFormatError(`${path}: expected ${ARRAY_OF[s.type].name} of ${n}`);
    }
    if (s.enum) {
      const a = c as Uint8Array;
      for (let i = 0; i < n; i++) if (a[i]! >= s.enum.length) throw new BatchFormatError(`${path}: code ${a[i]} is not one of ${s.enum.length} labels`);
    }
    return;
  }
  if (isStringLike(s.type)) {
    const d = c as StringData;
    if (typeof d.data !== 'string') throw new BatchFormatError(`${path}: expected string data`);
    checkOffsets(path, d.offsets, n, d.data.length);
    if (s.type === 'Json') checkJson(path, d, n);
    return;
  }
  if (s.type === 'List') {
    const l = c as ListData;
    if (!l || l.items === undefined) throw new BatchFormatError(`${path}: expected a list`);
    const end = checkOffsets(path, l.offsets, n, Infinity);
    checkColumn(`${path}[]`, s.of!, l.items, itemCount(s.of!, l.items, end));
    return;
  }
  if (s.type === 'Struct') {
    const st = c as StructData;
    if (!st || typeof st.fields !== 'object') throw new BatchFormatError(`${path}: expected a struct`);
    for (const f of s.fields ?? []) {
      const fc = st.fields[f.name];
      if (fc === undefined) throw new BatchFormatError(`${path}.${f.name} missing`);
      checkColumn(`${path}.${f.name}`, f, fc, n);
    }
  }
}

/** Views parse a Json column when read: a value that is not JSON is the batch's fault, refused here. */
export function checkJson(path: string, d: StringData, n: number): void {
  for (let i = 0; i < n; i++) {
    const text = d.data.substring(d.offsets[i]!, d.offsets[i + 1]!);
    if (text === '') continue;
    try {
      JSON.parse(text);
    } catch {
      throw new BatchFormatError(`${path}: row ${i} is not JSON`);
    }
  }
}

/** Offsets of n rows: n+1 non-decreasing values within [0, limit]; returns the last. */
function checkOffsets(path: string, o: Int32Array, n: number, limit: number): number {
  if (!(o instanceof Int32Array) || o.length !== n + 1) throw new BatchFormatError(`${path}: expected ${n + 1} offsets`);
  let prev = o[0]!;
  if (prev < 0) throw new BatchFormatError(`${path}: negative offset`);
  for (let i = 1; i <= n; i++) {
    const x = o[i]!;
    if (x < prev) throw new BatchFormatError(`${path}: offsets go backwards at row ${i - 1}`);
    prev = x;
  }
  if (prev > limit) throw new BatchFormatError(`${path}: offsets run past the data (${prev} > ${limit})`);
  return prev;
}

/** How many items a list's item column must hold (at least the last offset). */
function itemCount(s: ColumnSpec, items: ColumnData, atLeast: number): number {
  const n = s.type === 'Struct' ? firstFieldLength(s, items as StructData) : ArrayBuffer.isView(items) ? (items as Uint8Array).length : (items as StringData | ListData).offsets.length - 1;
  if (n < atLeast) throw new BatchFormatError(`${s.name}: list offsets run past the items (${atLeast} > ${n})`);
  return n;
}

function firstFieldLength(s: ColumnSpec, st: StructData): number {
  const f = s.fields?.[0];
  if (!f || !st.fields[f.name]) return 0;
  const c = st.fields[f.name]!;
  return ArrayBuffer.isView(c) ? (c as Uint8Array).length : (c as StringData | ListData).offsets.length - 1;
}

export type { BatchData };
