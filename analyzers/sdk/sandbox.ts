// The in-isolate driver: bundled in front of every analyzer (see runtime/compile.ts). It builds the
// v1 ctx and runs hooks event by event with per-event exception capture. A batch arrives as the
// columns this analyzer is known to read (typed arrays and strings copied into this isolate, see
// streams/events/columns.ts); any other column is fetched from the host the first time a hook
// reads it, and reported so that later batches bring it along (runtime/isolate.ts). Each event the
// hook gets is a view (streams/events/views.ts) that decodes a field only when the hook reads it. Results go back to the host as ONE JSON string per batch (alerts, logs and scores are
// few; a value the script made non-serializable fails here, inside, as that event's error).
// It uses no Node API; the only host capability is `__dfHostRead` (own files), captured and removed
// from the global object before the analyzer's code can look for it.
import { API_VERSION, DEFAULT_SEVERITY, checkSeverity, severityOf, type SeverityThresholds, type AlertSpec, type Analyzer, type Ctx, type HookName, type LogLevel } from './index.js';
import { StateStore } from './state.js';
import { viewClass } from '../../streams/events/views.js';
import { EVENT_TYPES, HOOK_TYPES, type EventType } from '../../streams/events/table.js';
import type { ColumnData, Columns, Validity } from '../../streams/events/columns.js';

interface BatchResult {
  /** Columns fetched from the host during this batch. */
  fetched?: string[];
  n: number;
  ok: number;
  errors: number;
  /** Errors after the last successful event of the batch. */
  trailing: number;
  firstError?: string;
  alerts: unknown[];
  logs: [LogLevel, string][];
  scores: Record<string, [number, number, number]>;
}

const MAX_ALERTS = 10000;
const MAX_LOGS = 100;
const MAX_ERROR_TEXT = 500;

function describeError(e: unknown, hook: string): string {
  let msg: string;
  try {
    msg = e instanceof Error ? `${e.name}: ${e.message}` : `thrown ${typeof e}: ${String(e)}`;
  } catch {
    msg = 'thrown value that cannot be printed';
  }
  let where = '';
  try {
    if (e instanceof Error && typeof e.stack === 'string') {
      // The frames inside the analyzer bundle, innermost first: "analyzer.js:LINE:COL" (bundle
      // coordinates; the host maps them to the author's file with the bundle's source map).
      const frames = [...e.stack.matchAll(/analyzer\.js:(\d+):(\d+)/g)].slice(0, 8).map((m) => `${m[1]}:${m[2]}`);
      if (frames.length) where = ` (bundle ${frames.join(', ')})`;
    }
  } catch {
    /* ignore */
  }
  return `${hook}: ${msg}${where}`.slice(0, MAX_ERROR_TEXT);
}

// Captured when this module is evaluated, which is before the analyzer's module (import order).
const g = globalThis as Record<string, unknown>;
const hostRead = g.__dfHostRead as ((name: string) => string) | undefined;
const hostColumn = g.__dfHostColumn as ((name: string, seq: number) => { c: ColumnData; v?: Uint8Array }) | undefined;
delete g.__dfHostRead;
delete g.__dfHostColumn;

/**
 * The batch as views see it. Its `cols` and `valid` are instances of a class per event type whose
 * prototype has a getter per column that fetches the column from the host on first read and then
 * shadows itself with an own property; the columns sent with the batch are own properties from
 * the start, added in the same order each time. So the objects keep one fast shape per set of
 * columns, and the views' loads stay cheap.
 */
const holders = new Map<EventType, { Cols: new () => Columns; Valid: new () => Validity }>();
let fetchedNow: string[] = [];
/** Number of the batch being processed; a view of an earlier one cannot fetch columns any more. */
let batchSeq = 0;

function own(o: object, name: string, value: unknown): void {
  Object.defineProperty(o, name, { value, writable: true, enumerable: true, configurable: true });
}

function fetchColumn(cols: Columns, valid: Validity, name: string): void {
  if (!hostColumn) throw new Error(`field ${name} is not available`);
  if ((cols as unknown as { $seq: number }).$seq !== batchSeq) {
    throw new Error(`field ${name} of an event from an earlier batch: an event is readable during its hook call; keep e.toJSON() to use it later`);
  }
  const x = hostColumn(name, batchSeq);
  own(cols, name, x.c);
  own(valid, name, x.v);
  fetchedNow.push(name);
}

function holdersOf(type: EventType): { Cols: new () => Columns; Valid: new () => Validity } {
  let h = holders.get(type);
  if (h) return h;
  const Cols = function Cols(this: { $valid: Validity }) {} as unknown as new () => Columns;
  const Valid = function Valid() {} as unknown as new () => Validity;
  for (const s of EVENT_TYPES[type].columns) {
    const name = s.name;
    Object.defineProperty(Cols.prototype, name, {
      get(this: Columns & { $valid: Validity }) {
        fetchColumn(this, this.$valid, name);
        return this[name];
      },
      configurable: true,
    });
    if (s.nullable) {
      Object.defineProperty(Valid.prototype, name, {
        get(this: Validity & { $cols: Columns }) {
          fetchColumn(this.$cols, this, name);
          return this[name];
        },
        configurable: true,
      });
    }
  }
  holders.set(type, (h = { Cols, Valid }));
  return h;
}

function batchData(type: EventType, v: number, length: number, sent: unknown[]): { type: EventType; v: number; length: number; cols: Columns; valid: Validity } {
  const { Cols, Valid } = holdersOf(type);
  const cols = new Cols();
  const valid = new Valid();
  Object.defineProperty(cols, '$valid', { value: valid });
  Object.defineProperty(cols, '$seq', { value: batchSeq });
  Object.defineProperty(valid, '$cols', { value: cols });
  for (let i = 0; i < sent.length; i += 2) {
    const name = sent[i] as string;
    const x = sent[i + 1] as { c: ColumnData; v?: Uint8Array };
    own(cols, name, x.c);
    own(valid, name, x.v);
  }
  return { type, v, length, cols, valid };
}

/** What a batch hook gets (sdk/index.ts Batch). */
class BatchView {
  constructor(
    private readonly data: { length: number; cols: Columns },
    private readonly View: new (b: never, i: number) => unknown,
  ) {}

  get length(): number {
    return this.data.length;
  }

  get(i: number): unknown {
    if (!Number.isInteger(i) || i < 0 || i >= this.data.length) throw new RangeError(`get(${String(i)}): not a row of this batch (0..${this.data.length - 1})`);
    return new this.View(this.data as never, i);
  }

  column(name: string): unknown {
    const c = this.data.cols[name];
    if (c === undefined) throw new TypeError(`no field ${name}`);
    return c;
  }

  str(name: string, i: number): string {
    const c = this.column(name) as { data?: string; offsets?: Int32Array };
    if (typeof c.data !== 'string' || !c.offsets) throw new TypeError(`${name} is not a text field`);
    return c.data.substring(c.offsets[i]!, c.offsets[i + 1]!);
  }

  *[Symbol.iterator](): IterableIterator<unknown> {
    for (let i = 0; i < this.data.length; i++) yield new this.View(this.data as never, i);
  }
}

export function install(mod: Analyzer): void {
  let name = '';
  let config: Record<string, unknown> = {};
  let thresholds: SeverityThresholds = DEFAULT_SEVERITY;
  let clock = Date.now();
  let sawEvent = false;
  let cur: Record<string, unknown> | undefined;
  let curRow = 0;
  /** Rows of the batch being processed (0 outside a batch). */
  let curLength = 0;
  let out: BatchResult = fresh(0);
  let state = new StateStore<unknown>({ clock: () => clock });

  function fresh(n: number): BatchResult {
    return { n, ok: 0, errors: 0, trailing: 0, alerts: [], logs: [], scores: {} };
  }

  const ctx: Ctx = {
    api: API_VERSION as 'v1',
    get name() {
      return name;
    },
    get config() {
      return config;
    },
    get state() {
      return state;
    },
    now: () => clock,
    alert(a: AlertSpec): void {
      if (!a || typeof a !== 'object') throw new TypeError('alert() needs an object {score, reason, ...}');
      const score = Number(a.score);
      if (!Number.isFinite(score)) throw new TypeError('alert(): score must be a finite number');
      if (typeof a.reason !== 'string' || a.reason === '') throw new TypeError('alert(): reason must be a non-empty string');
      const s = Math.min(1, Math.max(0, score));
      const base = {
        score: s,
        severity: a.severity ?? severityOf(s, thresholds),
        reason: a.reason,
        factors: a.factors ?? {},
        ...(typeof a.key === 'string' ? { key: a.key } : {}),
      };
      let alert: Record<string, unknown>;
      if (a.row !== undefined) {
        if (!Number.isInteger(a.row) || a.row < 0 || a.row >= curLength) throw new RangeError(`alert(): row ${String(a.row)} is not a row of this batch (0..${curLength - 1})`);
        alert = { ...base, row: a.row };
      } else if (a.event === undefined && cur !== undefined) {
        // About the event being processed: the host fills its flow and endpoints from the batch it
        // holds (row), so raising an alert does not pull those columns into the sandbox.
        alert = { ...base, row: curRow };
      } else {
        const ev = (a.event ?? {}) as Record<string, unknown>;
        const str = (v: unknown): string => (typeof v === 'string' ? v : '');
        const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
        alert = {
          ...base,
          key: base.key ?? `${a.reason}|${str(ev.saddr)}|${str(ev.daddr)}`,
          flowid: str(ev.flowid),
          community_id: str(ev.community_id),
          saddr: str(ev.saddr),
          daddr: str(ev.daddr),
          sport: num(ev.sport),
          dport: num(ev.dport),
          obname: str(ev.obname),
          ts: typeof ev.ts === 'number' ? ev.ts : clock * 1000,
        };
      }
      // Serialize now: a cyclic or BigInt factor is this call's error, not the batch's.
      JSON.stringify(alert);
      if (out.alerts.length >= MAX_ALERTS) throw new RangeError(`more than ${MAX_ALERTS} alerts in one batch`);
      out.alerts.push(alert);
    },
    score(metric: string, value: number): void {
      const v = Number(value);
      if (typeof metric !== 'string' || !Number.isFinite(v)) return;
      const s = out.scores[metric] ?? (out.scores[metric] = [0, 0, -Infinity]);
      s[0]++;
      s[1] += v;
      if (v > s[2]) s[2] = v;
    },
    log(level: LogLevel, msg: string): void {
      if (out.logs.length < MAX_LOGS) out.logs.push([level, String(msg).slice(0, 1000)]);
    },
    files: {
      read(file: string): string {
        if (!hostRead) throw new Error('file access is not available');
        return hostRead(String(file));
      },
      json<T>(file: string): T {
        return JSON.parse(ctx.files.read(file)) as T;
      },
    },
  };

  function checkReturn(r: unknown, hook: string): void {
    if (r !== undefined && r !== null) {
      const t = r instanceof Promise ? 'Promise (hooks must be synchronous)' : typeof r;
      throw new TypeError(`hook ${hook} returned a value of type ${t}; hooks return nothing (use ctx.alert)`);
    }
  }

  function finish(): string {
    return JSON.stringify(out);
  }

  const hooks = ['setup', ...HOOK_TYPES, ...HOOK_TYPES.map((t) => `${t}Batch`), 'tick'].filter((h) => typeof (mod as Record<string, unknown>)[h] === 'function');
  for (const t of HOOK_TYPES) {
    if (hooks.includes(t) && hooks.includes(`${t}Batch`)) throw new TypeError(`export either ${t}() or ${t}Batch(), not both: the batch hook replaces the event hook`);
  }

  g.__df = {
    describe(): string {
      let defaults: unknown = {};
      try {
        defaults = JSON.parse(JSON.stringify(mod.config ?? {}));
      } catch {
        defaults = {};
      }
      return JSON.stringify({ api: API_VERSION, hooks, config: defaults });
    },
    setup(analyzerName: string, configJson: string, stateMax: number, stateTtlMs: number, severityJson = 'null'): string {
      name = analyzerName;
      config = JSON.parse(configJson) as Record<string, unknown>;
      // Score → severity: the SDK's default, the analyzer's export, the operator's YAML, in that order.
      thresholds = checkSeverity(JSON.parse(severityJson), checkSeverity(mod.severity, DEFAULT_SEVERITY, `${analyzerName}: export severity`), `${analyzerName}.severity`);
      state = new StateStore<unknown>({ maxEntries: stateMax, ttlMs: stateTtlMs, clock: () => clock });
      out = fresh(0);
      if (mod.setup) {
        // A setup failure is fatal for this version: let it propagate to the host.
        const r = mod.setup(ctx) as unknown;
        checkReturn(r, 'setup');
      }
      return finish();
    },
    batch(hook: HookName, type: EventType, v: number, n: number, ...sent: unknown[]): string {
      out = fresh(n);
      fetchedNow = [];
      batchSeq++;
      const data = batchData(type, v, n, sent);
      const View = viewClass(data.type);
      const ts = data.cols.ts as Float64Array;
      const batchFn = (mod as Record<string, unknown>)[`${hook}Batch`] as ((b: unknown, c: Ctx) => unknown) | undefined;
      if (batchFn) {
        for (let i = 0; i < n; i++) {
          const ms = ts[i]! / 1000;
          if (!sawEvent || ms > clock) clock = ms;
          sawEvent = true;
        }
        curLength = n;
        try {
          checkReturn(batchFn.call(mod, new BatchView(data, View), ctx), `${hook}Batch`);
          out.ok = n;
        } catch (err) {
          // The batch is the unit: all of its events count as failed.
          out.errors = n;
          out.trailing = n;
          out.firstError = describeError(err, `${hook}Batch`);
        }
        curLength = 0;
        if (fetchedNow.length > 0) out.fetched = fetchedNow;
        return finish();
      }
      const fn = (mod as Record<string, unknown>)[hook] as ((e: unknown, c: Ctx) => unknown) | undefined;
      if (!fn) {
        out.ok = n;
        return finish();
      }
      curLength = n;
      for (let i = 0; i < n; i++) {
        const e = new View(data, i);
        cur = e;
        curRow = i;
        const ms = ts[i]! / 1000;
        if (!sawEvent || ms > clock) clock = ms;
        sawEvent = true;
        try {
          checkReturn(fn.call(mod, e, ctx), hook);
          out.ok++;
          out.trailing = 0;
        } catch (err) {
          out.errors++;
          out.trailing++;
          if (out.firstError === undefined) out.firstError = describeError(err, hook);
        }
      }
      cur = undefined;
      curLength = 0;
      if (fetchedNow.length > 0) out.fetched = fetchedNow;
      return finish();
    },
    tick(): string {
      out = fresh(0);
      state.sweep();
      if (mod.tick) {
        try {
          checkReturn(mod.tick(ctx) as unknown, 'tick');
          out.ok = 1;
        } catch (err) {
          out.errors = 1;
          out.trailing = 1;
          out.firstError = describeError(err, 'tick');
        }
      }
      return finish();
    },
  };
}
