// The lake's event datasets beside the flows: dns, tls, http and alerts, one row per event, as
// Zeek users keep dns.log/ssl.log/http.log. Columns are the event type's (streams/events/table.ts)
// in order; nested values (a DNS message's answers, an alert's factors) are JSON text. Files:
// <observation>/<dataset>/year=YYYY/month=MM/day=DD/<prefix>-<dataset>-YYYYMMDD-HHMMSS.parquet,
// partitioned by the UTC day of the event time `ts`. They join the flows by flowid / community_id.
import { EVENT_TYPES, type EventType } from '../../streams/events/table.js';
import type { EventBatch } from '../../streams/events/batch.js';
import type { ColumnData, ColumnSpec, StringData } from '../../streams/events/columns.js';
import { DATASET_TYPE, type Dataset } from './config.js';

/** The dataset an event type is archived in (none for flows — they are tiered — and control types). */
export function datasetOf(type: EventType): Dataset | undefined {
  for (const [d, t] of Object.entries(DATASET_TYPE)) if (t === type && d !== 'flows') return d as Dataset;
  return undefined;
}

/** How a column is stored: its own type, or JSON text for nested values. */
function storedType(c: ColumnSpec): string {
  return c.type === 'List' || c.type === 'Struct' || c.type === 'Json' ? 'String' : c.type;
}

/** The dataset's file columns: name, stored type, description. */
export function datasetColumns(type: EventType): { name: string; type: string; description: string }[] {
  return EVENT_TYPES[type].columns.map((c) => ({
    name: c.name,
    type: storedType(c),
    description: (c.description ?? '') + (c.type === 'List' || c.type === 'Struct' ? ' (JSON)' : ''),
  }));
}

/** The batch's columns as the writer takes them: nested ones turned into JSON text, with validity. */
export function datasetBatchColumns(batch: EventBatch): { cols: ColumnData[]; valid: (Uint8Array | undefined)[] } {
  const cols: ColumnData[] = [];
  const valid: (Uint8Array | undefined)[] = [];
  let rows: Record<string, unknown>[] | undefined;
  for (const c of EVENT_TYPES[batch.type].columns) {
    valid.push(batch.valid[c.name]);
    if (c.type !== 'List' && c.type !== 'Struct') {
      cols.push(batch.column(c.name));
      continue;
    }
    rows ??= batch.rows() as unknown as Record<string, unknown>[];
    const offsets = new Int32Array(batch.length + 1);
    let data = '';
    for (let i = 0; i < batch.length; i++) {
      const v = rows[i]![c.name];
      data += v === undefined ? '' : JSON.stringify(v);
      offsets[i + 1] = data.length;
    }
    const sd: StringData = { data, offsets };
    cols.push(sd);
  }
  return { cols, valid };
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

export function datasetFileName(prefix: string, observation: string, dataset: Dataset, tsUs: number): { partition: string; stem: string } {
  const d = new Date(Math.floor(tsUs / 1000));
  const Y = pad(d.getUTCFullYear(), 4);
  const M = pad(d.getUTCMonth() + 1, 2);
  const D = pad(d.getUTCDate(), 2);
  const hms = pad(d.getUTCHours(), 2) + pad(d.getUTCMinutes(), 2) + pad(d.getUTCSeconds(), 2);
  return { partition: `${observation}/${dataset}/year=${Y}/month=${M}/day=${D}`, stem: `${prefix}-${dataset}-${Y}${M}${D}-${hms}` };
}

/** The flow files' metadata keys plus damselfly.dataset. */
export function datasetMetadata(dataset: Dataset, kv: [string, string][]): [string, string][] {
  return [...kv, ['damselfly.dataset', dataset]];
}
