// A FIFO of the batches published to a topic, per group. A published batch is pushed once and
// shared read-only by every group's queue; take() hands out a whole batch without copying when it
// fits, else a slice of it (slices share memory, see events/batch.ts). Counts are in events.
// `inflight` counts events taken by a handler but not yet committed: they still occupy memory
// (they are redelivered on failure), so they count towards the bound.

import type { Batch } from '../transport.js';

export class EventQueue {
  private segments: Batch[] = [];
  private head = 0; // index of the first live segment
  private offset = 0; // events already taken from segments[head]
  /** Events not yet taken. */
  pending = 0;
  /** Events taken, not yet committed. */
  inflight = 0;

  get queued(): number {
    return this.pending + this.inflight;
  }

  push(batch: Batch): void {
    if (batch.length === 0) return;
    this.segments.push(batch);
    this.pending += batch.length;
  }

  /** Up to `max` events of the oldest batch; they count as in-flight until commit(). Null when empty. */
  take(max: number): Batch | null {
    if (this.pending === 0) return null;
    const first = this.segments[this.head]!;
    let out: Batch;
    if (this.offset === 0 && first.length <= max) {
      out = first;
      this.dropHead();
    } else {
      const end = Math.min(first.length, this.offset + max);
      out = first.slice(this.offset, end);
      this.offset = end;
      if (this.offset === first.length) this.dropHead();
    }
    this.pending -= out.length;
    this.inflight += out.length;
    return out;
  }

  commit(n: number): void {
    this.inflight -= n;
  }

  /** Forget everything (pending and in-flight); returns how many events were dropped. */
  clear(): number {
    const n = this.queued;
    this.segments = [];
    this.head = 0;
    this.offset = 0;
    this.pending = 0;
    this.inflight = 0;
    return n;
  }

  /** Move all pending events of `other` to the end of this queue (other must have none in flight). */
  takeOver(other: EventQueue): void {
    for (let i = other.head; i < other.segments.length; i++) {
      const seg = other.segments[i]!;
      this.push(i === other.head && other.offset > 0 ? seg.slice(other.offset, seg.length) : seg);
    }
    other.clear();
  }

  private dropHead(): void {
    this.segments[this.head] = EMPTY; // release the batch for GC
    this.head++;
    this.offset = 0;
    if (this.head === this.segments.length) {
      this.segments = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.segments.length) {
      this.segments = this.segments.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY: Batch = Object.freeze([]) as unknown as Batch;
