// Deterministic PRNG (sfc32) used by the synthetic traffic generator. One instance drives the whole
// capture; the event order is deterministic, so the same seed yields identical bytes.

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = (seed >>> 0) ^ 0x5bd1e995;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    this.a ^= hi;
    for (let i = 0; i < 24; i++) this.u32();
  }

  /** Uniform unsigned 32-bit integer. */
  u32(): number {
    const a = this.a, b = this.b, c = this.c, d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.c = (r + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(arr: readonly T[]): T {
    return arr[Math.floor(this.float() * arr.length)]!;
  }

  /** Weighted pick: weights parallel to items. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.float() * total;
    for (let i = 0; i < items.length; i++) {
      x -= weights[i]!;
      if (x < 0) return items[i]!;
    }
    return items[items.length - 1]!;
  }

  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Log-uniform in [lo, hi]. */
  logUniform(lo: number, hi: number): number {
    return Math.exp(Math.log(lo) + this.float() * (Math.log(hi) - Math.log(lo)));
  }

  /** Approximately normal (sum of uniforms). */
  normal(mean: number, sd: number): number {
    const s = this.float() + this.float() + this.float() + this.float() - 2;
    return mean + s * sd * 1.7320508;
  }

  fill(buf: Uint8Array, off = 0, len = buf.length - off): void {
    let i = off;
    const end = off + len;
    while (i + 4 <= end) {
      const v = this.u32();
      buf[i] = v & 0xff;
      buf[i + 1] = (v >>> 8) & 0xff;
      buf[i + 2] = (v >>> 16) & 0xff;
      buf[i + 3] = v >>> 24;
      i += 4;
    }
    while (i < end) buf[i++] = this.u32() & 0xff;
  }

  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    this.fill(b);
    return b;
  }

  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += (this.u32() & 0xf).toString(16);
    return s;
  }
}
