// Suppression/dedup of alerts: within `windowMs` of event time, one alert per (analyzer, key)
// passes; later ones are counted on the alert that passed and dropped. Bounded memory (oldest
// keys go first).

import type { AlertEvent } from '../../streams/schema.js';

export class AlertSuppressor {
  private readonly last = new Map<string, number>();
  suppressed = 0;

  constructor(
    readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** true when `a` should be emitted. Time = the alert's event time (µs). */
  admit(a: AlertEvent): boolean {
    if (this.windowMs <= 0) return true;
    const k = `${a.analyzer}\u0000${a.key}`;
    const now = a.ts / 1000;
    const prev = this.last.get(k);
    if (prev !== undefined && now - prev < this.windowMs && now >= prev) {
      this.suppressed++;
      return false;
    }
    this.last.delete(k);
    if (this.last.size >= this.maxKeys) this.last.delete(this.last.keys().next().value as string);
    this.last.set(k, now);
    return true;
  }
}
