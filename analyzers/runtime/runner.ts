// Supervisor of one analyzer: serializes its batches and ticks (one isolate call at a time),
// enforces budgets, restarts it with exponential backoff after a failure, disables it after
// `maxFailures` failures in a row, and hot-swaps new versions between batches.
//
// Failure = the isolate died or was stopped (wall timeout, memory limit, crash), the batch went
// over its CPU budget, or `consecutiveErrors` events in a row threw / returned garbage. A batch
// interrupted by a dead isolate is given again to the restarted one (no event is skipped for it);
// one that completed is never re-run. Swaps happen under the same lock, between two batches, so a
// reload neither loses nor repeats an event. What an analyzer may read is grants.ts; when it
// reloads (files changed, a refresh schedule) is reload.ts.
import { SourceMap, type SourceMapPayload } from 'node:module';
import { log } from '../../streams/log.js';
import type { HookName } from '../sdk/index.js';
import { compileAnalyzer, CompileError } from './compile.js';
import { loadAnalyzerConfig, peekMemoryMb, type OperatorKeys } from './config.js';
import type { AnalyzerSpec } from './discover.js';
import { FileGrants } from './grants.js';
import { ReloadWatch } from './reload.js';
import { AnalyzerIsolate, type BatchResult } from './isolate.js';
import type { EventBatch } from '../../streams/events/batch.js';

export interface Limits {
  memoryMb: number;
  batchWallMs: number;
  batchCpuMs: number;
  setupWallMs: number;
  maxFailures: number;
  backoffMs: number;
  maxBackoffMs: number;
  consecutiveErrors: number;
  stateMaxEntries: number;
  stateTtlMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  memoryMb: 64,
  batchWallMs: 1000,
  batchCpuMs: 1000,
  setupWallMs: 30000,
  maxFailures: 5,
  backoffMs: 100,
  maxBackoffMs: 10000,
  consecutiveErrors: 100,
  stateMaxEntries: 100000,
  stateTtlMs: 3600_000,
};

export type RunnerState = 'starting' | 'running' | 'backoff' | 'disabled' | 'stopped';

export interface AnalyzerStats {
  name: string;
  state: RunnerState;
  version: number;
  events: number;
  batches: number;
  eventErrors: number;
  alerts: number;
  failures: number;
  restarts: number;
  reloads: number;
  compileErrors: number;
  /** Messages the analyzer logged at level error (ctx.log('error', …)), and the last of them. */
  loggedErrors: number;
  lastLoggedError?: string;
  cpuMs: number;
  wallMs: number;
  lastError?: string;
  scores: Record<string, { count: number; sum: number; max: number }>;
}

export interface RunnerHooks {
  onAlerts(analyzer: string, alerts: Record<string, unknown>[]): Promise<void>;
  onStatus(stats: AnalyzerStats, error?: string): void;
  onDisabled(analyzer: string): void;
}

interface Version {
  iso: AnalyzerIsolate;
  hooks: Set<string>;
  operator: OperatorKeys;
  watched: Set<string>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class AnalyzerRunner {
  readonly name: string;
  private cur?: Version;
  private lock: Promise<unknown> = Promise.resolve();
  private consecutiveFailures = 0;
  private consecErrors = 0;
  private readonly grants: FileGrants;
  private readonly reloads: ReloadWatch;
  readonly stats: AnalyzerStats;
  /** Hooks of the first version that started (subscriptions are made for these). */
  hooks: Set<string> = new Set();
  private code?: string;
  private inputs: string[] = [];
  /** The bundle's source map: error locations in the author's files. */
  private sourceMap?: SourceMap;

  constructor(
    readonly spec: AnalyzerSpec,
    private readonly limits: Limits,
    private readonly host: RunnerHooks,
  ) {
    this.name = spec.name;
    this.grants = new FileGrants(spec);
    this.reloads = new ReloadWatch(() => this.reload());
    this.stats = {
      name: spec.name, state: 'starting', version: 0, events: 0, batches: 0, eventErrors: 0, alerts: 0, failures: 0,
      restarts: 0, reloads: 0, compileErrors: 0, loggedErrors: 0, cpuMs: 0, wallMs: 0, scores: {},
    };
  }

  get state(): RunnerState {
    return this.stats.state;
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.lock.then(fn, fn);
    this.lock = p.catch(() => undefined);
    return p;
  }

  private lim(op: OperatorKeys | undefined) {
    return {
      memoryMb: op?.memory_mb ?? this.limits.memoryMb,
      wallMs: op?.batch_wall_ms ?? this.limits.batchWallMs,
      cpuMs: op?.batch_cpu_ms ?? this.limits.batchCpuMs,
    };
  }

  /** Compile + start a version; throws CompileError / ConfigError / SandboxError. */
  private async build(recompile: boolean): Promise<Version> {
    if (recompile || this.code === undefined) {
      const c = await compileAnalyzer(this.name, this.spec.script, this.spec.roots);
      this.code = c.code;
      this.inputs = c.inputs;
      this.sourceMap = c.map ? new SourceMap(JSON.parse(c.map) as SourceMapPayload) : undefined;
    }
    const watched = new Set<string>([...this.inputs, this.spec.configFile]);
    let operator: OperatorKeys = { enabled: true, files: [] };
    // Made with the heap its config asks for (threat-feed: 512 MB), so it is made once.
    const probeMb = peekMemoryMb(this.spec.configFile) ?? this.limits.memoryMb;
    const probe = await AnalyzerIsolate.create(this.code!, { memoryMb: probeMb, wallMs: this.limits.setupWallMs, readOwn: (n) => this.grants.read(operator, watched, n), map: this.sourceMap });
    try {
      const desc = await probe.describe(this.limits.setupWallMs);
      const cfg = loadAnalyzerConfig(this.name, this.spec.configFile, desc.config);
      operator = cfg.operator;
      await this.grants.fetchUrls(operator, false);
      const lim = this.lim(operator);
      let iso = probe;
      if (lim.memoryMb !== probeMb) {
        probe.dispose();
        iso = await AnalyzerIsolate.create(this.code!, { memoryMb: lim.memoryMb, wallMs: this.limits.setupWallMs, readOwn: (n) => this.grants.read(operator, watched, n), map: this.sourceMap });
      }
      try {
        const r = await iso.setup(this.name, cfg.config, this.limits.stateMaxEntries, this.limits.stateTtlMs, this.limits.setupWallMs, cfg.operator.severity);
        this.emitLogs(r);
        this.absorbScores(r);
        if (r.alerts.length > 0) await this.host.onAlerts(this.name, r.alerts);
      } catch (e) {
        iso.dispose();
        throw e;
      }
      return { iso, hooks: new Set(desc.hooks), operator, watched };
    } catch (e) {
      probe.dispose();
      throw e;
    }
  }

  /** First start. Returns false (and reports) when the analyzer cannot start. */
  async start(): Promise<boolean> {
    try {
      const v = await this.build(true);
      if (!v.operator.enabled) {
        v.iso.dispose();
        this.stats.state = 'stopped';
        log('info', `analyzer.${this.name}`, 'disabled by its config (enabled: false)');
        return false;
      }
      this.cur = v;
      this.hooks = v.hooks;
      this.stats.version = 1;
      this.stats.state = 'running';
      this.status();
      this.scheduleRefresh();
      return true;
    } catch (e) {
      if (e instanceof CompileError) this.stats.compileErrors++;
      this.stats.lastError = (e as Error).message;
      this.stats.state = 'disabled';
      log('error', `analyzer.${this.name}`, `not started: ${(e as Error).message}`);
      this.status((e as Error).message);
      return false;
    }
  }

  private emitLogs(r: BatchResult): void {
    for (const [lvl, msg] of r.logs) {
      log(lvl, `analyzer.${this.name}`, msg);
      // An analyzer that says something went wrong (a feed it could not load, ...) made the run
      // incomplete: counted, and the run's report says so.
      if (lvl === 'error') {
        this.stats.loggedErrors++;
        this.stats.lastLoggedError = msg;
      }
    }
  }

  private status(error?: string): void {
    this.host.onStatus({ ...this.stats, scores: { ...this.stats.scores } }, error);
  }

  private backoff(): number {
    return Math.min(this.limits.maxBackoffMs, this.limits.backoffMs * 2 ** Math.max(0, this.consecutiveFailures - 1));
  }

  /** Record a failure; dispose the isolate. Returns false when the analyzer is now disabled. */
  private fail(err: string): boolean {
    this.consecutiveFailures++;
    this.stats.failures++;
    this.stats.lastError = err;
    this.cur?.iso.dispose();
    if (this.consecutiveFailures >= this.limits.maxFailures) {
      this.stats.state = 'disabled';
      const msg = `disabled after ${this.consecutiveFailures} failures in a row; last error: ${err}`;
      log('error', `analyzer.${this.name}`, msg);
      this.status(msg);
      this.host.onDisabled(this.name);
      return false;
    }
    this.stats.state = 'backoff';
    log('error', `analyzer.${this.name}`, `${err}; restarting in ${this.backoff()} ms (failure ${this.consecutiveFailures}/${this.limits.maxFailures})`);
    this.status(err);
    return true;
  }

  /** (Re)start the current version's isolate after a failure (same code, fresh state). */
  private async restart(): Promise<boolean> {
    await sleep(this.backoff());
    if (this.stats.state === 'disabled' || this.stats.state === 'stopped') return false;
    try {
      this.cur = await this.build(false);
      this.stats.restarts++;
      this.stats.state = 'running';
      return true;
    } catch (e) {
      return this.fail(`restart failed: ${(e as Error).message}`) && this.restart();
    }
  }

  /** ctx.score() values of a batch, tick or setup (setup: e.g. feed sizes, malformed lines). */
  private absorbScores(r: BatchResult): void {
    for (const [k, [c, s, m]] of Object.entries(r.scores)) {
      const t = this.stats.scores[k] ?? (this.stats.scores[k] = { count: 0, sum: 0, max: -Infinity });
      t.count += c;
      t.sum += s;
      t.max = Math.max(t.max, m);
    }
  }

  private absorb(r: BatchResult): string | undefined {
    this.stats.events += r.n;
    this.stats.batches++;
    this.stats.eventErrors += r.errors;
    this.stats.cpuMs += r.cpuMs;
    this.stats.wallMs += r.wallMs;
    this.absorbScores(r);
    this.emitLogs(r);
    if (r.errors > 0) {
      this.stats.lastError = r.firstError;
      if (this.stats.eventErrors - r.errors < 5 || this.stats.batches % 100 === 0) {
        log('warn', `analyzer.${this.name}`, `${r.errors} of ${r.n} events failed: ${r.firstError}`);
      }
    }
    this.consecErrors = r.ok > 0 ? r.trailing : this.consecErrors + r.errors;
    const cpuBudget = this.lim(this.cur?.operator).cpuMs;
    if (r.cpuMs > cpuBudget) return `CPU budget of ${cpuBudget} ms per batch exceeded (${r.cpuMs.toFixed(1)} ms for ${r.n} events)`;
    if (this.consecErrors >= this.limits.consecutiveErrors) {
      this.consecErrors = 0;
      return `${this.limits.consecutiveErrors} events in a row failed; last: ${r.firstError}`;
    }
    if (r.ok > 0 || r.n === 0) this.consecutiveFailures = 0;
    return undefined;
  }

  /** Process one batch of `hook` events. */
  process(hook: HookName, batch: EventBatch): Promise<void> {
    const n = batch.length;
    return this.locked(async () => {
      for (;;) {
        if (this.stats.state === 'disabled' || this.stats.state === 'stopped') return;
        if (!this.cur || this.cur.iso.disposed) {
          if (!(await this.restart())) return;
        }
        const v = this.cur!;
        if (!v.hooks.has(hook) && !v.hooks.has(`${hook}Batch`)) {
          this.stats.events += n;
          return;
        }
        let r: BatchResult;
        try {
          r = await v.iso.batch(hook, batch, this.lim(v.operator).wallMs);
        } catch (e) {
          // The isolate is gone or was stopped mid-batch: restart and give it the same batch again.
          if (!this.fail((e as Error).message)) return;
          continue;
        }
        if (r.alerts.length > 0) {
          this.stats.alerts += r.alerts.length;
          await this.host.onAlerts(this.name, r.alerts);
        }
        const bad = this.absorb(r);
        if (bad) this.fail(bad); // processed: not re-run; the next batch starts a fresh isolate
        return;
      }
    });
  }

  tick(): Promise<void> {
    return this.locked(async () => {
      const v = this.cur;
      if (this.stats.state !== 'running' || !v || v.iso.disposed || !v.hooks.has('tick')) return;
      try {
        const r = await v.iso.tick(this.lim(v.operator).wallMs);
        this.emitLogs(r);
        if (r.alerts.length > 0) {
          this.stats.alerts += r.alerts.length;
          await this.host.onAlerts(this.name, r.alerts);
        }
        if (r.errors > 0) {
          this.stats.lastError = r.firstError;
          log('warn', `analyzer.${this.name}`, `tick failed: ${r.firstError}`);
        }
      } catch (e) {
        this.fail((e as Error).message);
      }
    });
  }

  /**
   * Build the new version from the files on disk, then swap it in between two batches. On a
   * compile/config/setup error the running version stays and the error is reported.
   */
  async reload(): Promise<boolean> {
    if (this.stats.state === 'stopped') return false;
    let v: Version;
    try {
      v = await this.build(true);
    } catch (e) {
      if (e instanceof CompileError) this.stats.compileErrors++;
      const msg = `reload failed, keeping version ${this.stats.version}: ${(e as Error).message}`;
      this.stats.lastError = (e as Error).message;
      log('error', `analyzer.${this.name}`, msg);
      this.status(msg);
      return false;
    }
    return this.locked(async () => {
      if (this.stats.state === 'stopped') {
        v.iso.dispose();
        return false;
      }
      const old = this.cur;
      this.cur = v;
      old?.iso.dispose();
      this.stats.version++;
      this.stats.reloads++;
      this.consecutiveFailures = 0;
      this.consecErrors = 0;
      const wasDisabled = this.stats.state === 'disabled';
      this.stats.state = 'running';
      if (this.hooks.size === 0) this.hooks = v.hooks;
      log('info', `analyzer.${this.name}`, `reloaded (version ${this.stats.version})`);
      this.status();
      if (v.operator.refresh_s !== old?.operator.refresh_s) this.scheduleRefresh();
      if (wasDisabled) this.host.onDisabled(this.name); // let the host (re)subscribe
      return true;
    });
  }

  /** Watch the script, its bundled files, its config and the files it read; reload on change. */
  watch(debounceMs = 150): void {
    this.reloads.watch([this.spec.script, this.spec.configFile, ...this.inputs, ...(this.cur?.watched ?? [])], debounceMs, () => this.watch(debounceMs));
  }

  /** With `refresh_s`: re-fetch granted URLs and re-check read files on that schedule; reload when any changed. */
  private scheduleRefresh(): void {
    const op = this.cur?.operator;
    this.reloads.refresh(op?.refresh_s, async () => {
      if (!this.cur || this.stats.state === 'stopped') return false;
      return this.grants.fetchUrls(this.cur.operator, true);
    }, () => [...(this.cur?.watched ?? [])]);
  }

  async stop(): Promise<void> {
    this.reloads.stop();
    await this.locked(async () => {
      this.stats.state = 'stopped';
      this.cur?.iso.dispose();
      this.cur = undefined;
    });
  }
}
