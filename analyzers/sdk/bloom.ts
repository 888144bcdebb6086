// Bloom filter (Kirsch–Mitzenmacher double hashing over FNV-1a): a compact "maybe in the set" test
// for large lists where a false positive costs only an exact check.
import { fnv1a } from './text.js';

export class BloomFilter {
  readonly bits: number;
  readonly hashes: number;
  private readonly words: Uint32Array;
  private n = 0;

  /** Sized for `capacity` items at false-positive rate `fpr`. */
  constructor(capacity: number, fpr = 0.01) {
    const cap = Math.max(1, Math.floor(capacity));
    const p = Math.min(0.5, Math.max(1e-9, fpr));
    this.bits = Math.max(64, Math.ceil((-cap * Math.log(p)) / (Math.LN2 * Math.LN2)));
    this.hashes = Math.max(1, Math.round((this.bits / cap) * Math.LN2));
    this.words = new Uint32Array(Math.ceil(this.bits / 32));
  }

  get size(): number {
    return this.n;
  }

  add(item: string): void {
    const h1 = fnv1a(item);
    const h2 = fnv1a(item, 0x9747b28c) | 1;
    for (let i = 0; i < this.hashes; i++) {
      const b = (h1 + Math.imul(i, h2)) >>> 0;
      const bit = b % this.bits;
      this.words[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.n++;
  }

  has(item: string): boolean {
    const h1 = fnv1a(item);
    const h2 = fnv1a(item, 0x9747b28c) | 1;
    for (let i = 0; i < this.hashes; i++) {
      const b = (h1 + Math.imul(i, h2)) >>> 0;
      const bit = b % this.bits;
      if ((this.words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}
