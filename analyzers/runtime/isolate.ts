// One analyzer version in one isolated-vm isolate: its own V8 heap (memoryLimit), no Node APIs,
// one host capability (read own files). Calls are async (`apply`): the script runs on an
// isolated-vm thread while the host event loop keeps serving the pipeline; `timeout` is the wall
// budget, isolate.cpuTime gives the CPU spent per call.
// A batch enters an isolate as copies of the columns the analyzer reads — no JSON, no objects.
// Which columns those are is learnt: the first batch of a type carries only `ts`; a hook that reads
// another field fetches that column from the host on first use (a synchronous callback, once per
// column and batch), the driver reports what it fetched, and later batches carry those columns up
// front. So an analyzer that reads two fields pays for two columns. Each column of a batch is
// serialized once (an ExternalCopy shared by every analyzer that reads it) and copied into each
// isolate that wants it.
import { mapErrorLocation, type SourceMapLike } from './compile.js';
import ivm from 'isolated-vm';
import type { HookName, LogLevel } from '../sdk/index.js';
import type { EventBatch } from '../../streams/events/batch.js';
import type { ColumnData } from '../../streams/events/columns.js';

export interface BatchResult {
  /** Columns the hooks fetched on demand during the batch (sent up front from now on). */
  fetched?: string[];
  n: number;
  ok: number;
  errors: number;
  trailing: number;
  firstError?: string;
  alerts: Record<string, unknown>[];
  logs: [LogLevel, string][];
  scores: Record<string, [number, number, number]>;
  cpuMs: number;
  wallMs: number;
}

export interface Description {
  api: string;
  hooks: string[];
  config: Record<string, unknown>;
}

export class SandboxError extends Error {
  constructor(message: string, readonly kind: 'timeout' | 'memory' | 'error', cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SandboxError';
  }
}

function classify(e: unknown, iso: ivm.Isolate, wallMs: number): SandboxError {
  const msg = e instanceof Error ? e.message : String(e);
  if (iso.isDisposed && /memory/i.test(msg)) return new SandboxError(`memory limit exceeded (${msg})`, 'memory', e);
  if (/memory limit/i.test(msg)) return new SandboxError(`memory limit exceeded (${msg})`, 'memory', e);
  if (/timed out|timeout/i.test(msg)) return new SandboxError(`wall-time budget of ${wallMs} ms exceeded (script timed out)`, 'timeout', e);
  const stack = e instanceof Error && typeof e.stack === 'string' ? e.stack.split('\n').find((l) => /analyzer\.js:\d+/.test(l)) : undefined;
  return new SandboxError(`${msg}${stack ? ` (${stack.trim()})` : ''}`, 'error', e);
}

/** What the column callback serves: the batch being processed by this isolate, if any. */
interface Serving {
  batch?: EventBatch;
}

export class AnalyzerIsolate {
  /** Columns sent up front, per event type (`ts` always: the driver's clock). */
  private readonly wanted = new Map<string, Set<string>>();

  private constructor(
    private readonly iso: ivm.Isolate,
    private readonly ctx: ivm.Context,
    private readonly fns: Record<'describe' | 'setup' | 'batch' | 'tick', ivm.Reference<(...a: unknown[]) => string>>,
    private readonly serving: Serving,
    private readonly map: SourceMapLike | undefined,
  ) {}

  /** `map`: the bundle's source map; error locations in results are given in the author's files. */
  static async create(code: string, opts: { memoryMb: number; wallMs: number; readOwn: (name: string) => string; map?: SourceMapLike }): Promise<AnalyzerIsolate> {
    const iso = new ivm.Isolate({ memoryLimit: Math.max(8, opts.memoryMb) });
    const serving: Serving = {};
    try {
      const ctx = await iso.createContext();
      await ctx.global.set('__dfHostRead', new ivm.Callback((name: string) => opts.readOwn(name)));
      await ctx.global.set('__dfHostColumn', new ivm.Callback((name: string) => {
        const b = serving.batch;
        if (!b) throw new Error(`field ${name} asked for outside a hook call`);
        return columnCopy(b, name).copyInto();
      }));
      const script = await iso.compileScript(code, { filename: 'analyzer.js' });
      await script.run(ctx, { timeout: opts.wallMs });
      const df = (await ctx.global.get('__df', { reference: true })) as ivm.Reference<Record<string, unknown>>;
      const get = async (k: string) => (await df.get(k, { reference: true })) as ivm.Reference<(...a: unknown[]) => string>;
      const fns = { describe: await get('describe'), setup: await get('setup'), batch: await get('batch'), tick: await get('tick') };
      return new AnalyzerIsolate(iso, ctx, fns, serving, opts.map);
    } catch (e) {
      const err = classify(e, iso, opts.wallMs);
      if (!iso.isDisposed) iso.dispose();
      throw err;
    }
  }

  get disposed(): boolean {
    return this.iso.isDisposed;
  }

  private async call(fn: keyof AnalyzerIsolate['fns'], args: (string | number | ivm.Copy<unknown>)[], wallMs: number): Promise<{ out: string; cpuMs: number; wallMs: number }> {
    const cpu0 = this.iso.cpuTime;
    const t0 = performance.now();
    try {
      // Strings and numbers cross as they are; a batch crosses as an ExternalCopy's copyInto().
      const out = (await this.fns[fn].apply(undefined, args as never[], { timeout: wallMs, result: { copy: true } })) as string;
      return { out, cpuMs: Number(this.iso.cpuTime - cpu0) / 1e6, wallMs: performance.now() - t0 };
    } catch (e) {
      throw classify(e, this.iso, wallMs);
    }
  }

  async describe(wallMs: number): Promise<Description> {
    return JSON.parse((await this.call('describe', [], wallMs)).out) as Description;
  }

  private parse(r: { out: string; cpuMs: number; wallMs: number }): BatchResult {
    if (typeof r.out !== 'string') throw new SandboxError('sandbox driver returned a non-string result', 'error');
    const res = JSON.parse(r.out) as BatchResult;
    res.cpuMs = r.cpuMs;
    res.wallMs = r.wallMs;
    if (res.firstError) res.firstError = mapErrorLocation(res.firstError, this.map);
    return res;
  }

  async setup(name: string, config: Record<string, unknown>, stateMax: number, stateTtlMs: number, wallMs: number, severity?: Record<string, number>): Promise<BatchResult> {
    return this.parse(await this.call('setup', [name, JSON.stringify(config), stateMax, stateTtlMs, JSON.stringify(severity ?? null)], wallMs));
  }

  async batch(hook: HookName, batch: EventBatch, wallMs: number): Promise<BatchResult> {
    let wanted = this.wanted.get(batch.type);
    if (!wanted) this.wanted.set(batch.type, (wanted = new Set(['ts'])));
    const args: (string | number | ivm.Copy<unknown>)[] = [hook, batch.type, batch.v, batch.length];
    for (const name of wanted) args.push(name, columnCopy(batch, name).copyInto());
    this.serving.batch = batch;
    try {
      const r = this.parse(await this.call('batch', args, wallMs));
      for (const name of r.fetched ?? []) wanted.add(name);
      for (const a of r.alerts) if (typeof a.row === 'number') aboutRow(a, batch, a.row);
      return r;
    } finally {
      this.serving.batch = undefined;
    }
  }

  async tick(wallMs: number): Promise<BatchResult> {
    return this.parse(await this.call('tick', [], wallMs));
  }

  heapBytes(): number {
    try {
      const h = this.iso.getHeapStatisticsSync();
      return h.used_heap_size + h.externally_allocated_size;
    } catch {
      return 0;
    }
  }

  dispose(): void {
    try {
      this.ctx.release();
    } catch {
      /* already gone */
    }
    if (!this.iso.isDisposed) this.iso.dispose();
  }
}

/** An alert about row `row` of the batch: its flow, endpoints, observation and time from the row. */
function aboutRow(a: Record<string, unknown>, b: EventBatch, row: number): void {
  const e = b.get(row) as unknown as Record<string, unknown>;
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  delete a.row;
  a.flowid = str(e.flowid);
  a.community_id = str(e.community_id);
  a.saddr = str(e.saddr);
  a.daddr = str(e.daddr);
  a.sport = num(e.sport);
  a.dport = num(e.dport);
  a.obname = str(e.obname);
  a.ts = num(e.ts);
  if (typeof a.key !== 'string') a.key = `${String(a.reason)}|${a.saddr as string}|${a.daddr as string}`;
}

// ------------------------------------------------------------------------------------------------
// column copies

const copies = new WeakMap<EventBatch, Map<string, ivm.ExternalCopy<unknown>>>();

/**
 * Column `name` of the batch with its validity ({c, v}), serialized once per batch. A column of a
 * slice is rebuilt to hold only the slice's rows: serializing a typed array view writes its whole
 * buffer, and a slice of a large batch would otherwise carry the entire column into the isolate.
 */
function columnCopy(b: EventBatch, name: string): ivm.ExternalCopy<unknown> {
  let m = copies.get(b);
  if (!m) copies.set(b, (m = new Map()));
  let c = m.get(name);
  if (!c) {
    const col = b.cols[name];
    if (col === undefined) throw new Error(`${b.type} events have no field ${name}`);
    const v = b.valid[name];
    c = new ivm.ExternalCopy({ c: compactColumn(col, 0, b.length), v: v === undefined || v.byteLength === v.buffer.byteLength ? v : v.slice() });
    m.set(name, c);
  }
  return c;
}

function compactColumn(c: ColumnData, from: number, to: number): ColumnData {
  if (ArrayBuffer.isView(c)) {
    const whole = from === 0 && to === c.length && c.byteLength === c.buffer.byteLength;
    return whole ? c : c.slice(from, to);
  }
  if ('data' in c) {
    const o = c.offsets;
    const a = o[from]!;
    const b = o[to]!;
    if (a === 0 && b === c.data.length && from === 0 && o.length === to + 1 && o.byteLength === o.buffer.byteLength) return c;
    const offsets = new Int32Array(to - from + 1);
    for (let i = from; i <= to; i++) offsets[i - from] = o[i]! - a;
    return { data: c.data.substring(a, b), offsets, ...(c.ascii ? { ascii: true } : {}) };
  }
  if ('items' in c) {
    const o = c.offsets;
    const a = o[from]!;
    const offsets = new Int32Array(to - from + 1);
    for (let i = from; i <= to; i++) offsets[i - from] = o[i]! - a;
    return { offsets, items: compactColumn(c.items, a, o[to]!) };
  }
  const fields: Record<string, ColumnData> = {};
  for (const [k, f] of Object.entries(c.fields)) fields[k] = compactColumn(f, from, to);
  return { fields };
}

