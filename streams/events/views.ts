// Row views over a columnar batch: `batch.get(i)` / the events an analyzer hook receives. A view is
// an object of a class generated once per event type from the table, with one getter per column:
// nothing is decoded until a field is read, so a hook that reads two fields pays for two. Views are
// read-only and hold their batch; `toJSON()` (what JSON.stringify calls) gives a plain object with
// every field. Pure JS without Node APIs: the sandbox driver bundles this file into every isolate
// (where `new Function` is allowed: the generated getters have literal property names, so their
// loads stay monomorphic).
import type { ColumnData, ColumnSpec, Columns, ListData, StringData, StructData, Validity } from './columns.js';
import { isStringLike } from './columns.js';
import { EVENT_TYPES, type EventType } from './table.js';

/** What a view needs of a batch (an EventBatch, or the plain copy a sandbox receives). */
export interface BatchData {
  readonly type: EventType;
  readonly v: number;
  readonly length: number;
  readonly cols: Columns;
  readonly valid: Validity;
}

export type ViewClass = new (b: BatchData, i: number) => Record<string, unknown>;

/** Reads item j of a column that is not a list's top level (list items: scalars or structs). */
function itemReader(s: ColumnSpec): (c: ColumnData, j: number) => unknown {
  if (s.type === 'Struct') {
    const fields = (s.fields ?? []).map((f) => [f.name, itemReader(f)] as const);
    return (c, j) => {
      const st = c as StructData;
      const o: Record<string, unknown> = {};
      for (const [name, read] of fields) o[name] = read(st.fields[name]!, j);
      return o;
    };
  }
  if (s.type === 'List') return listReader(s);
  if (isStringLike(s.type)) {
    return s.type === 'Json'
      ? (c, j) => parseJson(c as StringData, j)
      : (c, j) => {
        const d = c as StringData;
        return d.data.substring(d.offsets[j]!, d.offsets[j + 1]!);
      };
  }
  const labels = s.enum;
  return labels ? (c, j) => labels[(c as Uint8Array)[j]!] : (c, j) => (c as Float64Array)[j];
}

function listReader(s: ColumnSpec): (c: ColumnData, i: number) => unknown[] {
  const item = itemReader(s.of!);
  return (c, i) => {
    const l = c as ListData;
    const a = l.offsets[i]!;
    const b = l.offsets[i + 1]!;
    const out = new Array(b - a);
    for (let j = a; j < b; j++) out[j - a] = item(l.items, j);
    return out;
  };
}

function parseJson(d: StringData, i: number): unknown {
  const text = d.data.substring(d.offsets[i]!, d.offsets[i + 1]!);
  return text === '' ? undefined : JSON.parse(text);
}

const cache = new Map<EventType, ViewClass>();

/** The view class of an event type (generated on first use). */
export function viewClass(type: EventType): ViewClass {
  let C = cache.get(type);
  if (C) return C;
  const cols = EVENT_TYPES[type].columns;
  const helpers: unknown[] = [];
  const helper = (f: unknown): string => {
    helpers.push(f);
    return `H[${helpers.length - 1}]`;
  };
  const body: string[] = [];
  const fieldsJson: string[] = [];
  const optional: string[] = [];
  for (const s of cols) {
    const key = JSON.stringify(s.name);
    let read: string;
    if (s.type === 'List' || s.type === 'Json') {
      read = `${helper(s.type === 'List' ? listReader(s) : parseJson)}(b.cols[${key}], i)`;
    } else if (isStringLike(s.type)) {
      read = `(c = b.cols[${key}], c.data.substring(c.offsets[i], c.offsets[i + 1]))`;
    } else if (s.enum) {
      read = `${helper(s.enum)}[b.cols[${key}][i]]`;
    } else {
      read = `b.cols[${key}][i]`;
    }
    const guard = s.nullable ? `const n = b.valid[${key}]; if (n !== undefined && n[i] === 0) return undefined; ` : '';
    body.push(`get [${key}]() { const b = this.#b, i = this.#i; let c; ${guard}return ${read}; }`);
    if (s.nullable) optional.push(`x = this[${key}]; if (x !== undefined) o[${key}] = x;`);
    else fieldsJson.push(`[${key}]: this[${key}]`);
  }
  const src = `return class ${type}Event {
    #b; #i;
    constructor(b, i) { this.#b = b; this.#i = i; }
    get type() { return ${JSON.stringify(type)}; }
    get v() { return this.#b.v; }
    ${body.join('\n    ')}
    toJSON() { const o = { type: ${JSON.stringify(type)}, v: this.#b.v, ${fieldsJson.join(', ')} }; let x; ${optional.join(' ')} return o; }
  };`;
  C = new Function('H', src)(helpers) as ViewClass;
  cache.set(type, C);
  return C;
}

/** Row i of a batch as a view. */
export function view(b: BatchData, i: number): Record<string, unknown> {
  return new (viewClass(b.type))(b, i);
}

/** Every row as a plain object (fields in the table's order; null fields absent). */
export function toObjects(b: BatchData): Record<string, unknown>[] {
  const C = viewClass(b.type);
  const out = new Array<Record<string, unknown>>(b.length);
  for (let i = 0; i < b.length; i++) out[i] = (new C(b, i) as unknown as { toJSON(): Record<string, unknown> }).toJSON();
  return out;
}
