// startAnalyzers: run analyzers on a Transport. Each analyzer gets its own consumer group
// (`analyzer.<name>`) on the topics of the hooks it exports, so a slow or failing analyzer only
// delays its own group; alerts go to `<prefix>.alerts`, status/stats to `<prefix>.stats`.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { log } from '../../streams/log.js';
import { EVENT_SCHEMA_VERSION, topicFor, type AlertEvent, type AnalyzerStatsEvent } from '../../streams/schema.js';
import type { Subscription, Transport } from '../../streams/transport.js';
import { EventBatch } from '../../streams/events/batch.js';
import { HOOK_TYPES } from '../../streams/events/table.js';
import { REPO_ROOT } from './compile.js';
import { discoverAnalyzers, specForScript, type AnalyzerSpec } from './discover.js';
import { AnalyzerRunner, DEFAULT_LIMITS, type AnalyzerStats, type Limits } from './runner.js';

export { CompileError, compileAnalyzer, REPO_ROOT, SDK_DIR } from './compile.js';
export { discoverAnalyzers, specForScript, type AnalyzerSpec } from './discover.js';
export { AnalyzerRunner, DEFAULT_LIMITS, type AnalyzerStats, type Limits, type RunnerState } from './runner.js';
export { loadAnalyzerConfig } from './config.js';

export const BUILTIN_DIR = path.join(REPO_ROOT, 'analyzers', 'builtin');

export interface AnalyzersOptions {
  /** Run the built-in analyzers (each can still be turned off by `enabled: false` in its config). Default true. */
  builtins?: boolean;
  /** Built-in analyzer names to skip. */
  disable?: string[];
  /** Folders of user analyzers (`--analyzers DIR`). */
  dirs?: string[];
  /** Single analyzer scripts. */
  scripts?: string[];
  /** Config file per analyzer name, instead of its own (`<folder>/config.yaml` / `<name>.yaml`): how a pipeline config configures built-ins. */
  configFiles?: Record<string, string>;
  topicPrefix?: string;
  obname?: string;
  limits?: Partial<Limits>;
  /** Largest batch handed to an isolate (default 8192: the copy into an isolate is per batch). */
  maxBatch?: number;
  /** Analyzer tick period (default 1000 ms; 0 = no ticks). */
  tickMs?: number;
  /** Hot reload on file change (default true). */
  watch?: boolean;
  /** Publish AlertEvents to `<prefix>.alerts` (default true). */
  publishAlerts?: boolean;
  /** Publish AnalyzerStatsEvents to `<prefix>.stats` (default true; never blocks analyzers). */
  publishStats?: boolean;
  /** Also called with every alert (e.g. replay harness). */
  onAlert?: (a: AlertEvent) => void;
  onStats?: (s: AnalyzerStatsEvent) => void;
}

export interface AnalyzersHandle {
  readonly names: string[];
  stats(): Record<string, AnalyzerStats>;
  runner(name: string): AnalyzerRunner | undefined;
  /** Wait until every analyzer has handled everything delivered so far (used by tests/replay). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}


function snapshotWarning(): void {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (!flags.includes('--no-node-snapshot')) {
    log('warn', 'analyzers', 'node was started without --no-node-snapshot; isolated-vm on Node 20 needs it for stability');
  }
}

export async function startAnalyzers(transport: Transport, opts: AnalyzersOptions = {}): Promise<AnalyzersHandle> {
  snapshotWarning();
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const prefix = opts.topicPrefix;
  const obname = opts.obname ?? '';
  const specs: AnalyzerSpec[] = [];
  if (opts.builtins !== false) specs.push(...discoverAnalyzers(BUILTIN_DIR, true).filter((s) => !(opts.disable ?? []).includes(s.name)));
  for (const d of opts.dirs ?? []) specs.push(...discoverAnalyzers(path.resolve(d)));
  for (const f of opts.scripts ?? []) specs.push(specForScript(f));
  for (const s of specs) {
    const cf = opts.configFiles?.[s.name];
    if (cf !== undefined) s.configFile = path.resolve(cf);
  }
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) throw new Error(`two analyzers are named '${s.name}' (${s.script})`);
    seen.add(s.name);
  }

  const alertsTopic = topicFor('alert', prefix);
  const statsTopic = topicFor('stats', prefix);
  let statsInFlight = 0;
  const subs = new Map<string, Subscription[]>();
  const runners = new Map<string, AnalyzerRunner>();
  let stopping = false;

  const publishStats = (s: AnalyzerStats, error?: string) => {
    const ev: AnalyzerStatsEvent = {
      type: 'stats', v: EVENT_SCHEMA_VERSION, obname, ts: Date.now() * 1000, component: `analyzer.${s.name}`,
      analyzer: s.name, state: s.state,
      counters: { events: s.events, batches: s.batches, event_errors: s.eventErrors, alerts: s.alerts, failures: s.failures, restarts: s.restarts, reloads: s.reloads, compile_errors: s.compileErrors, cpu_ms: Math.round(s.cpuMs), version: s.version },
      ...(error !== undefined ? { error } : {}),
    };
    opts.onStats?.(ev);
    // Stats are advisory: never make an analyzer wait for them (bounded in flight, else dropped).
    if (opts.publishStats !== false && !stopping && statsInFlight < 16) {
      statsInFlight++;
      transport.publish(statsTopic, EventBatch.fromRows('stats', [ev])).then(() => statsInFlight--, () => statsInFlight--);
    }
  };

  const subscribe = async (r: AnalyzerRunner) => {
    const list: Subscription[] = [];
    for (const hook of HOOK_TYPES) {
      if (!r.hooks.has(hook) && !r.hooks.has(`${hook}Batch`)) continue;
      const topic = topicFor(hook, prefix);
      list.push(
        await transport.subscribe<EventBatch>(topic, { group: `analyzer.${r.name}`, maxBatch: opts.maxBatch ?? 8192 }, (batch) => r.process(hook, batch)),
      );
    }
    subs.set(r.name, list);
  };

  const host = {
    onAlerts: async (name: string, alerts: Record<string, unknown>[]) => {
      const evs = alerts.map(
        (a) => ({ ...a, type: 'alert', v: EVENT_SCHEMA_VERSION, id: randomUUID(), analyzer: name, obname: (a.obname as string) || obname }) as AlertEvent,
      );
      if (opts.onAlert) for (const e of evs) opts.onAlert(e);
      if (opts.publishAlerts !== false) await transport.publish(alertsTopic, EventBatch.fromRows('alert', evs));
    },
    onStatus: publishStats,
    onDisabled: (name: string) => {
      const r = runners.get(name);
      if (!r || stopping) return;
      if (r.state === 'disabled') {
        // Leave the topics so a dead analyzer does not hold back the producers (its events are
        // counted as undelivered for its group); a fixed version re-subscribes on reload.
        const list = subs.get(name) ?? [];
        subs.delete(name);
        for (const s of list) void s.close();
      } else if (r.state === 'running' && !subs.has(name)) void subscribe(r);
    },
  };

  for (const s of specs) {
    const r = new AnalyzerRunner(s, limits, host);
    runners.set(s.name, r);
  }
  await Promise.all([...runners.values()].map((r) => r.start()));
  for (const r of runners.values()) {
    if (r.state === 'running') await subscribe(r);
    if (opts.watch !== false && r.state !== 'stopped') r.watch();
  }
  const started = [...runners.values()].filter((r) => r.state === 'running').map((r) => r.name);
  log('info', 'analyzers', `started ${started.length} analyzer(s)${started.length ? `: ${started.join(', ')}` : ''}`);

  const tickMs = opts.tickMs ?? 1000;
  const timer = tickMs > 0 ? setInterval(() => { for (const r of runners.values()) void r.tick(); }, tickMs) : undefined;
  timer?.unref();

  return {
    names: [...runners.keys()],
    stats: () => Object.fromEntries([...runners].map(([n, r]) => [n, { ...r.stats }])),
    runner: (n) => runners.get(n),
    idle: async () => {
      for (const r of runners.values()) await r.tick().catch(() => undefined);
    },
    stop: async () => {
      stopping = true;
      if (timer) clearInterval(timer);
      for (const list of subs.values()) await Promise.all(list.map((s) => s.close()));
      subs.clear();
      await Promise.all([...runners.values()].map((r) => r.stop()));
    },
  };
}
