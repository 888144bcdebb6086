// Which (flowid, seq) rows the Parquet sink has taken, so that a redelivered batch (at-least-once
// transports) is not written twice. Two generations: add() answers "seen" for a key in either;
// when the current generation holds capacity/2 keys it becomes the old one and the previous old
// one is dropped, so the filter remembers at least the capacity/2 most recent keys and never more
// than capacity. Redeliveries arrive soon after the original (a failed batch is retried within
// seconds; a Kafka redelivery follows a rebalance), so the recent past is enough; an older
// duplicate would be written twice.
//
// Keys are read from the batch's flowid column without making a string: a canonical UUID (what
// the sensor writes) becomes three exact numbers — hex digits 0-12, 13-25, and 26-31 with seq
// above them (seq < 2^28) — kept in an open-addressing table of Float64Array triples that grows
// as needed: no per-row allocation, no string kept alive, no hashing that could merge two keys.
// Any other flowid (third-party producers) goes to a string set.
import type { StringData } from '../../streams/events/columns.js';

const SEQ_SHIFT = 2 ** 24;
const SEQ_MAX = 2 ** 28;

class Generation {
  size = 0;
  private mask: number;
  private k1: Float64Array;
  private k2: Float64Array;
  private k3: Float64Array;
  readonly other = new Set<string>();

  constructor(slots = 1 << 14) {
    this.mask = slots - 1;
    this.k1 = new Float64Array(slots).fill(-1);
    this.k2 = new Float64Array(slots);
    this.k3 = new Float64Array(slots);
  }

  private slot(a: number, b: number, c: number): number {
    return ((a >>> 0) ^ Math.imul(b >>> 0, 0x9e3779b1) ^ Math.imul(c >>> 0, 0x85ebca6b) ^ Math.imul((c / 16777216) >>> 0, 0xc2b2ae35)) & this.mask;
  }

  has(a: number, b: number, c: number): boolean {
    for (let i = this.slot(a, b, c); ; i = (i + 1) & this.mask) {
      const x = this.k1[i]!;
      if (x === -1) return false;
      if (x === a && this.k2[i] === b && this.k3[i] === c) return true;
    }
  }

  /** Inserts a key known to be absent. */
  insert(a: number, b: number, c: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    let i = this.slot(a, b, c);
    while (this.k1[i] !== -1) i = (i + 1) & this.mask;
    this.k1[i] = a;
    this.k2[i] = b;
    this.k3[i] = c;
    this.size++;
  }

  remove(a: number, b: number, c: number): void {
    // Linear probing: re-insert the cluster after the removed key.
    for (let i = this.slot(a, b, c); this.k1[i] !== -1; i = (i + 1) & this.mask) {
      if (this.k1[i] !== a || this.k2[i] !== b || this.k3[i] !== c) continue;
      this.k1[i] = -1;
      this.size--;
      for (let j = (i + 1) & this.mask; this.k1[j] !== -1; j = (j + 1) & this.mask) {
        const x = this.k1[j]!;
        this.k1[j] = -1;
        this.size--;
        this.insert(x, this.k2[j]!, this.k3[j]!);
      }
      return;
    }
  }

  private grow(): void {
    const { k1, k2, k3 } = this;
    const slots = (this.mask + 1) * 2;
    this.mask = slots - 1;
    this.k1 = new Float64Array(slots).fill(-1);
    this.k2 = new Float64Array(slots);
    this.k3 = new Float64Array(slots);
    this.size = 0;
    for (let i = 0; i < k1.length; i++) if (k1[i] !== -1) this.insert(k1[i]!, k2[i]!, k3[i]!);
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export class FlowKeyFilter {
  private cur = new Generation();
  private old = new Generation();
  private readonly half: number;
  /** The key of the last parse (avoids returning a triple). */
  private a = 0;
  private b = 0;
  private c = 0;

  constructor(capacity: number) {
    this.half = Math.max(1, Math.floor(capacity / 2));
  }

  /** Parses row i's flowid as a UUID into (a, b, c), seq in c; false when it is not one. */
  private parse(ids: StringData, i: number, seq: number): boolean {
    const d = ids.data;
    const at = ids.offsets[i]!;
    if (ids.offsets[i + 1]! - at !== 36 || seq >= SEQ_MAX) return false;
    let a = 0;
    let b = 0;
    let c = 0;
    let n = 0;
    for (let k = 0; k < 36; k++) {
      const ch = d.charCodeAt(at + k);
      if (k === 8 || k === 13 || k === 18 || k === 23) {
        if (ch !== 45) return false;
        continue;
      }
      const v = hexValue(ch);
      if (v < 0) return false;
      if (n < 13) a = a * 16 + v;
      else if (n < 26) b = b * 16 + v;
      else c = c * 16 + v;
      n++;
    }
    this.a = a;
    this.b = b;
    this.c = c + seq * SEQ_SHIFT;
    return true;
  }

  private textKey(ids: StringData, i: number, seq: number): string {
    return `${ids.data.substring(ids.offsets[i]!, ids.offsets[i + 1]!)}\u0000${seq}`;
  }

  /** Records row i's (flowid, seq); false when it was seen already. */
  add(ids: StringData, i: number, seq: number): boolean {
    if (this.cur.size + this.cur.other.size >= this.half) {
      this.old = this.cur;
      this.cur = new Generation();
    }
    if (this.parse(ids, i, seq)) {
      const { a, b, c } = this;
      if (this.cur.has(a, b, c) || this.old.has(a, b, c)) return false;
      this.cur.insert(a, b, c);
      return true;
    }
    const k = this.textKey(ids, i, seq);
    if (this.cur.other.has(k) || this.old.other.has(k)) return false;
    this.cur.other.add(k);
    return true;
  }

  /** Forgets row i's key (its batch was not taken after all: a retry must not count as a duplicate). */
  delete(ids: StringData, i: number, seq: number): void {
    if (this.parse(ids, i, seq)) {
      this.cur.remove(this.a, this.b, this.c);
      this.old.remove(this.a, this.b, this.c);
      return;
    }
    const k = this.textKey(ids, i, seq);
    this.cur.other.delete(k);
    this.old.other.delete(k);
  }
}
