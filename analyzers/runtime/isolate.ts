// One analyzer version in one isolated-vm isolate: its own V8 heap (memoryLimit), no Node APIs,
// one host capability (read own files). Calls are async (`apply`): the script runs on an
// isolated-vm thread while the host event loop keeps serving the pipeline; `timeout` is the wall
// budget, isolate.cpuTime gives the CPU spent per call.
import ivm from 'isolated-vm';
import type { HookName, LogLevel } from '../sdk/index.js';

export interface BatchResult {
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

export class AnalyzerIsolate {
  private constructor(
    private readonly iso: ivm.Isolate,
    private readonly ctx: ivm.Context,
    private readonly fns: Record<'describe' | 'setup' | 'batch' | 'tick', ivm.Reference<(...a: unknown[]) => string>>,
  ) {}

  static async create(code: string, opts: { memoryMb: number; wallMs: number; readOwn: (name: string) => string }): Promise<AnalyzerIsolate> {
    const iso = new ivm.Isolate({ memoryLimit: Math.max(8, opts.memoryMb) });
    try {
      const ctx = await iso.createContext();
      await ctx.global.set('__dfHostRead', new ivm.Callback((name: string) => opts.readOwn(name)));
      const script = await iso.compileScript(code, { filename: 'analyzer.js' });
      await script.run(ctx, { timeout: opts.wallMs });
      const df = (await ctx.global.get('__df', { reference: true })) as ivm.Reference<Record<string, unknown>>;
      const get = async (k: string) => (await df.get(k, { reference: true })) as ivm.Reference<(...a: unknown[]) => string>;
      const fns = { describe: await get('describe'), setup: await get('setup'), batch: await get('batch'), tick: await get('tick') };
      return new AnalyzerIsolate(iso, ctx, fns);
    } catch (e) {
      const err = classify(e, iso, opts.wallMs);
      if (!iso.isDisposed) iso.dispose();
      throw err;
    }
  }

  get disposed(): boolean {
    return this.iso.isDisposed;
  }

  private async call(fn: keyof AnalyzerIsolate['fns'], args: unknown[], wallMs: number): Promise<{ out: string; cpuMs: number; wallMs: number }> {
    const cpu0 = this.iso.cpuTime;
    const t0 = performance.now();
    try {
      const out = (await this.fns[fn].apply(undefined, args, { timeout: wallMs, arguments: { copy: true }, result: { copy: true } })) as string;
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
    return res;
  }

  async setup(name: string, config: Record<string, unknown>, stateMax: number, stateTtlMs: number, wallMs: number): Promise<BatchResult> {
    return this.parse(await this.call('setup', [name, JSON.stringify(config), stateMax, stateTtlMs], wallMs));
  }

  async batch(hook: HookName, json: string, wallMs: number): Promise<BatchResult> {
    return this.parse(await this.call('batch', [hook, json], wallMs));
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
