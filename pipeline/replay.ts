// `damselfly analyzer test`: one analyzer in its sandbox, exactly as in the pipeline, over recorded
// traffic — a capture (metered by the sensor), JSON lines of events or flow records, or flow
// records in Parquet — with its alerts and timings as the result.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SENSOR_CONFIG, sensorOptions } from '../sensor/src/config.js';
import { FileSource } from '../sensor/src/file-source.js';
import { specForScript, startAnalyzers, type AnalyzerStats } from '../analyzers/runtime/index.js';
import { defaults } from '../streams/config.js';
import { EmbeddedTransport } from '../streams/embedded/index.js';
import { EventBatch } from '../streams/events/batch.js';
import { EVENT_SCHEMA_VERSION, HOOK_TYPES, topicFor, type EventType } from '../streams/events/table.js';
import { UserError } from '../streams/errors.js';
import type { AlertEvent } from '../streams/schema.js';

/** A bare flow record (no envelope: a Parquet row, a flows.jsonl line) is a flow end event. */
function normalize(o: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) if (typeof v === 'bigint') o[k] = Number(v);
  if (typeof o.type !== 'string') return { type: 'flow', v: EVENT_SCHEMA_VERSION, ts: o.etime, kind: 'end', seq: 0, ...o };
  return o;
}

/** The input's events as batches (hook types only), in the order they occur. */
export async function* replayInput(file: string): AsyncGenerator<EventBatch> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.pcap' || ext === '.pcapng' || ext === '.cap') {
    const queue: EventBatch[] = [];
    const src = new FileSource(sensorOptions(defaults(SENSOR_CONFIG)), [file], async (b) => {
      queue.push(b);
    });
    const summary = await src.run();
    if (summary.errors.length > 0) throw new UserError(`--replay ${summary.errors.map((e) => `${e.file}: ${e.message}`).join('; ')}`);
    yield* queue;
  } else if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') {
    const by = new Map<EventType, Record<string, unknown>[]>();
    let n = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      n++;
      if (!line.trim()) continue;
      let o: Record<string, unknown>;
      try {
        o = normalize(JSON.parse(line) as Record<string, unknown>);
      } catch (e) {
        throw new UserError(`${file}:${n}: not a JSON object (${(e as Error).message})`);
      }
      const t = o.type as EventType;
      if (!(HOOK_TYPES as readonly string[]).includes(t)) continue;
      const list = by.get(t) ?? [];
      list.push(o);
      by.set(t, list);
      if (list.length >= 1024) {
        yield EventBatch.fromRows(t, list);
        by.set(t, []);
      }
    }
    for (const [type, events] of by) if (events.length > 0) yield EventBatch.fromRows(type, events);
  } else if (ext === '.parquet') {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet('${file.replace(/'/g, "''")}')`);
      const rows = reader.getRowObjectsJS() as Record<string, unknown>[];
      for (let i = 0; i < rows.length; i += 1024) yield EventBatch.fromRows('flow', rows.slice(i, i + 1024).map(normalize));
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  } else {
    throw new UserError(`--replay ${file}: unknown input type (use .pcap/.pcapng/.cap, .jsonl/.ndjson or .parquet)`);
  }
}

export interface AnalyzerTestResult {
  name: string;
  /** Why it did not start (then nothing was replayed). */
  notStarted?: string;
  stats?: AnalyzerStats;
  /** Events replayed, by type. */
  events: Record<string, number>;
  alerts: AlertEvent[];
  startMs: number;
  replayMs: number;
}

export async function testAnalyzer(o: { script: string; replay: string; configFile?: string; onAlert?: (a: AlertEvent) => void }): Promise<AnalyzerTestResult> {
  const transport = new EmbeddedTransport({ maxQueued: 1 << 16 });
  const alerts: AlertEvent[] = [];
  const abs = path.resolve(o.script);
  const t0 = performance.now();
  const h = await startAnalyzers(transport, {
    builtins: false, scripts: [abs], watch: false,
    ...(o.configFile ? { configFiles: { [specForScript(abs).name]: path.resolve(o.configFile) } } : {}), tickMs: 0, publishAlerts: false, publishStats: false, maxBatch: 1024,
    onAlert: (a) => {
      alerts.push(a);
      o.onAlert?.(a);
    },
  });
  const name = h.names[0]!;
  const st0 = h.stats()[name]!;
  if (st0.state !== 'running') {
    await h.stop();
    return { name, notStarted: st0.lastError ?? st0.state, events: {}, alerts, startMs: performance.now() - t0, replayMs: 0 };
  }
  const tStart = performance.now();
  const events: Record<string, number> = {};
  // Only the types it has hooks for: a topic nobody reads would fill up and stall the replay.
  const hooks = h.runner(name)!.hooks;
  for await (const b of replayInput(o.replay)) {
    events[b.type] = (events[b.type] ?? 0) + b.length;
    if (hooks.has(b.type) || hooks.has(`${b.type}Batch`)) await transport.publish(topicFor(b.type), b);
  }
  await transport.close();
  await h.idle();
  const tEnd = performance.now();
  const stats = h.stats()[name]!;
  await h.stop();
  return { name, stats, events, alerts, startMs: tStart - t0, replayMs: tEnd - tStart };
}
