// Building batches from plain objects (alerts and stats from analyzers, JSON events from Kafka or
// files, tests), and slicing. Values are coerced to the column's type the way JSON consumers
// expect (a number where a string column is → its decimal text; a missing value → the column's
// zero, or null where the column is nullable); an enum value that is not one of its labels, or a
// row that is not an object, is an error.
import { ARRAY_OF, isNumeric, isStringLike, type ColumnData, type ColumnSpec, type Columns, type ListData, type StringData, type StructData, type Validity } from './columns.js';
import { EVENT_TYPES, type EventType } from './table.js';
import { BatchFormatError } from '../errors.js';

const ASCII = /^[\x00-\x7f]*$/;

function isAbsent(v: unknown): boolean {
  return v === undefined || v === null;
}

function textOf(v: unknown): string {
  return typeof v === 'string' ? v : isAbsent(v) ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** JSON text of a Json column's value ('' for undefined, and for what JSON cannot hold: functions, symbols). */
function jsonText(name: string, v: unknown): string {
  if (v === undefined) return '';
  let t: string | undefined;
  try {
    t = JSON.stringify(v);
  } catch (e) {
    throw new BatchFormatError(`${name}: cannot be written as JSON (${(e as Error).message})`);
  }
  return t ?? '';
}

/** A column of `values` (one per row) for spec `s`; fills `valid` for nullable columns. */
export function buildColumn(s: ColumnSpec, values: readonly unknown[], valid?: Uint8Array): ColumnData {
  const n = values.length;
  if (valid) for (let i = 0; i < n; i++) valid[i] = isAbsent(values[i]) ? 0 : 1;
  if (isNumeric(s.type)) {
    const a = new ARRAY_OF[s.type](n);
    const labels = s.enum;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (isAbsent(v)) continue;
      if (labels && typeof v === 'string') {
        const k = labels.indexOf(v);
        if (k < 0) throw new BatchFormatError(`${s.name}: '${v}' is not one of ${labels.join(', ')}`);
        a[i] = k;
      } else {
        const x = typeof v === 'number' ? v : Number(v);
        a[i] = Number.isNaN(x) ? 0 : x;
      }
    }
    return a;
  }
  if (isStringLike(s.type)) {
    const parts = new Array<string>(n);
    const offsets = new Int32Array(n + 1);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const t = s.type === 'Json' ? jsonText(s.name, v) : textOf(v);
      parts[i] = t;
      at += t.length;
      offsets[i + 1] = at;
    }
    const data = parts.join('');
    return { data, offsets, ...(ASCII.test(data) ? { ascii: true } : {}) } satisfies StringData;
  }
  if (s.type === 'List') {
    const offsets = new Int32Array(n + 1);
    const items: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (Array.isArray(v)) for (const x of v) items.push(x);
      else if (!isAbsent(v)) throw new BatchFormatError(`${s.name}: must be a list`);
      offsets[i + 1] = items.length;
    }
    return { offsets, items: buildColumn(s.of!, items) } satisfies ListData;
  }
  if (s.type === 'Struct') {
    const fields: Record<string, ColumnData> = {};
    for (const f of s.fields ?? []) {
      fields[f.name] = buildColumn(f, values.map((v) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[f.name] : undefined)));
    }
    return { fields } satisfies StructData;
  }
  throw new BatchFormatError(`${s.name}: unknown column type ${String(s.type)}`);
}

/** Columns and validity of `rows` (plain objects) as events of `type`. */
export function columnsOf(type: EventType, rows: readonly unknown[]): { cols: Columns; valid: Validity } {
  const cols: Columns = {};
  const valid: Validity = {};
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new BatchFormatError(`${type} event ${i}: not an object`);
  }
  for (const s of EVENT_TYPES[type].columns) {
    const values = rows.map((r) => (r as Record<string, unknown>)[s.name]);
    let v: Uint8Array | undefined;
    if (s.nullable) v = new Uint8Array(rows.length);
    cols[s.name] = buildColumn(s, values, v);
    if (v && v.includes(0)) valid[s.name] = v;
  }
  return { cols, valid };
}

/** Rows [start, end) of a column, sharing memory with it (offsets stay absolute). */
export function sliceColumn(c: ColumnData, start: number, end: number): ColumnData {
  if (ArrayBuffer.isView(c)) return c.subarray(start, end);
  if ('data' in c) return { data: c.data, offsets: c.offsets.subarray(start, end + 1), ...(c.ascii ? { ascii: true } : {}) };
  if ('items' in c) return { offsets: c.offsets.subarray(start, end + 1), items: c.items };
  throw new BatchFormatError('a struct column cannot be sliced on its own');
}
