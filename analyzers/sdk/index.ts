// The analyzer SDK, host API v1: what an analyzer author imports (`import { type Ctx } from
// 'damselfly/sdk'`). An analyzer is a module exporting hooks; each runs inside its own isolated-vm
// isolate with no Node APIs. Everything here is either a type or a pure helper that is bundled
// into the isolate together with the analyzer.
//
//   export const config = { threshold: 0.9 };          // defaults; `<name>.yaml` overrides (unknown keys = errors)
//   export function setup(ctx: Ctx) { ... }            // once per (re)start, after config is known
//   export function dns(e: DnsEvent, ctx: Ctx) { ... } // also flow / tls / http: one call per event
//   export function tick(ctx: Ctx) { ... }             // every analyzer tick (default 1 s)
//   export function flowBatch(b: Batch<FlowEvent>, ctx: Ctx) { ... }  // instead of flow(): the
//       whole batch at once, its columns readable as typed arrays (high-rate analyzers)
//
// Hooks are synchronous and return nothing; anything else returned is reported as an error.
import type { AlertSeverity, DnsEvent, FlowEvent, HttpEvent, TlsEvent } from '../../streams/schema.js';
import type { StateStore } from './state.js';
import type { HOOK_TYPES } from '../../streams/events/table.js';

export type { AlertSeverity, DnsAnswer, DnsEvent, FlowEvent, HttpEvent, TlsEvent } from '../../streams/schema.js';
export { StateStore, type StateStoreOptions } from './state.js';
export { PrefixTree, parseIPv4, parseIPv6, type PrefixMatch } from './prefix-tree.js';
export { BloomFilter } from './bloom.js';
export { Forest, compactForest, type CompactForest, type CompactTree } from './forest.js';
export { entropy, ngrams, ngramLogLikelihood, longestRun, fnv1a } from './text.js';

export const API_VERSION = 'v1';

export type AnalyzerEvent = FlowEvent | DnsEvent | TlsEvent | HttpEvent;
/** Event hooks: the event types of streams/events/table.ts with `hook: true`. */
export type HookName = (typeof HOOK_TYPES)[number];
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface AlertSpec {
  /** 0..1 (clamped). */
  score: number;
  reason: string;
  /** Default from score and the analyzer's SeverityThresholds (default >= 0.9 CRITICAL, >= 0.75 HIGH, >= 0.5 MEDIUM, else LOW). */
  severity?: AlertSeverity;
  /** JSON-serializable details (features, matched feed entry, ...). */
  factors?: Record<string, unknown>;
  /** Suppression key within the analyzer (default: reason + saddr + daddr). */
  key?: string;
  /** The event the alert is about (default: the event being processed). */
  event?: Partial<AnalyzerEvent>;
  /** In a batch hook: the row of the batch the alert is about (its flow and endpoints are filled in). */
  row?: number;
}

/**
 * What a batch hook (`flowBatch`, `dnsBatch`, ...) receives: the events of one batch. `get(i)` is
 * the event of row i (what the event hook would get); `column(name)` is a field's whole column:
 * a typed array for numbers (64-bit counters and µs timestamps as Float64Array), `{data, offsets}`
 * for text (row i is data.substring(offsets[i], offsets[i + 1])). A column is brought into the
 * sandbox the first time it is read in a batch and with every later batch.
 */
export interface Batch<E> extends Iterable<E> {
  readonly length: number;
  get(i: number): E;
  column<T = unknown>(name: keyof E & string): T;
  /** Text of field `name` at row i (a string column). */
  str(name: keyof E & string, i: number): string;
}

/** Read-only access to the analyzer's own files (its folder or `<name>.*` siblings, and files granted by its YAML). */
export interface OwnFiles {
  read(name: string): string;
  json<T = unknown>(name: string): T;
}

/** Host API v1, the second argument of every hook. */
export interface Ctx<C = Record<string, unknown>> {
  readonly api: 'v1';
  readonly name: string;
  readonly config: C;
  alert(a: AlertSpec): void;
  /** Record a numeric score under `metric` (count/sum/max reported in the analyzer's stats). */
  score(metric: string, value: number): void;
  log(level: LogLevel, msg: string): void;
  /** Default bounded TTL store (config `state_max_entries`, `state_ttl_ms`), clocked by event time. */
  readonly state: StateStore<unknown>;
  /** Current time in ms: the latest event time seen (wall clock before the first event). */
  now(): number;
  readonly files: OwnFiles;
}

export interface Analyzer<C = Record<string, unknown>> {
  config?: C;
  /** Score → severity for this analyzer's alerts (the operator's `severity:` overrides it). */
  severity?: Partial<SeverityThresholds>;
  setup?(ctx: Ctx<C>): void;
  flow?(e: FlowEvent, ctx: Ctx<C>): void;
  dns?(e: DnsEvent, ctx: Ctx<C>): void;
  tls?(e: TlsEvent, ctx: Ctx<C>): void;
  http?(e: HttpEvent, ctx: Ctx<C>): void;
  flowBatch?(b: Batch<FlowEvent>, ctx: Ctx<C>): void;
  dnsBatch?(b: Batch<DnsEvent>, ctx: Ctx<C>): void;
  tlsBatch?(b: Batch<TlsEvent>, ctx: Ctx<C>): void;
  httpBatch?(b: Batch<HttpEvent>, ctx: Ctx<C>): void;
  tick?(ctx: Ctx<C>): void;
}

/**
 * Where an analyzer's scores turn MEDIUM, HIGH and CRITICAL (below `medium`: LOW). An analyzer may
 * export its own (`export const severity = {...}`); the operator's `severity:` in `<name>.yaml`
 * overrides both. Scores mean different things per analyzer: a threat-feed hit at 0.9 and a DGA
 * name at 0.98 are not equally urgent.
 */
export interface SeverityThresholds {
  medium: number;
  high: number;
  critical: number;
}

export const DEFAULT_SEVERITY: Readonly<SeverityThresholds> = { medium: 0.5, high: 0.75, critical: 0.9 };

export function severityOf(score: number, t: SeverityThresholds = DEFAULT_SEVERITY): AlertSeverity {
  return score >= t.critical ? 'CRITICAL' : score >= t.high ? 'HIGH' : score >= t.medium ? 'MEDIUM' : 'LOW';
}

/** Problems of a thresholds object (partial allowed: missing levels keep `base`), or the merged thresholds. */
export function checkSeverity(v: unknown, base: SeverityThresholds, where: string, ordered = true): SeverityThresholds {
  if (v === undefined || v === null) return base;
  if (typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${where}: must be a mapping of medium/high/critical to scores`);
  const out = { ...base };
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k !== 'medium' && k !== 'high' && k !== 'critical') throw new TypeError(`${where}.${k}: unknown level (medium, high, critical)`);
    if (typeof x !== 'number' || !(x >= 0 && x <= 1)) throw new TypeError(`${where}.${k}: must be a score 0..1`);
    out[k] = x;
  }
  if (ordered && !(out.medium <= out.high && out.high <= out.critical)) throw new TypeError(`${where}: must rise: medium ${out.medium} <= high ${out.high} <= critical ${out.critical}`);
  return out;
}
