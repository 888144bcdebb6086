// Bounded key/value store with per-entry TTL: the state an analyzer keeps between events. Bounded
// by entry count (least recently written entries go first), so a script cannot grow it without
// limit through the API; expiry uses the store's clock (event time by default in the sandbox).

export interface StateStoreOptions {
  /** Most entries kept (default 100000). */
  maxEntries?: number;
  /** Default time to live in ms (default 1 hour; 0 = no expiry). */
  ttlMs?: number;
  /** Clock in ms (default Date.now). */
  clock?: () => number;
}

interface Entry<V> {
  v: V;
  exp: number;
}

export class StateStore<V = unknown> {
  readonly maxEntries: number;
  readonly ttlMs: number;
  private readonly clock: () => number;
  private readonly map = new Map<string, Entry<V>>();
  evictions = 0;

  constructor(opts: StateStoreOptions = {}) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? 100000);
    this.ttlMs = opts.ttlMs ?? 3600_000;
    this.clock = opts.clock ?? Date.now;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.exp !== 0 && e.exp <= this.clock()) {
      this.map.delete(key);
      return undefined;
    }
    return e.v;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Set `key` (moves it to the newest position); `ttlMs` overrides the default (0 = never). An
   * event a hook received is stored as a plain copy: the event is a view that keeps its whole
   * batch alive, a copy keeps only its fields.
   */
  set(key: string, value: V, ttlMs: number = this.ttlMs): void {
    if (isEventView(value)) value = value.toJSON() as V;
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
      this.evictions++;
    }
    this.map.set(key, { v: value, exp: ttlMs > 0 ? this.clock() + ttlMs : 0 });
  }

  /** Add `by` to a numeric entry (missing/expired = 0) and return the new value. */
  incr(key: string, by = 1, ttlMs?: number): number {
    const cur = this.get(key);
    const next = (typeof cur === 'number' ? cur : 0) + by;
    this.set(key, next as unknown as V, ttlMs ?? this.ttlMs);
    return next;
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  /** Drop expired entries; returns how many. Called by the runtime on tick. */
  sweep(): number {
    const now = this.clock();
    let n = 0;
    for (const [k, e] of this.map) {
      if (e.exp !== 0 && e.exp <= now) {
        this.map.delete(k);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.map.clear();
  }
}

/** An event view (streams/events/views.ts): an object whose class defines toJSON and `type`. */
function isEventView(v: unknown): v is { toJSON(): unknown } {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as Record<string, unknown> | null;
  return proto !== null && proto !== Object.prototype && typeof proto.toJSON === 'function' && Object.getOwnPropertyDescriptor(proto, 'type')?.get !== undefined;
}
