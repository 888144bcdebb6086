// A FIFO of events stored as the batches they were published in (segments), so publish and
// take cost O(batches), not O(events): a published array is pushed once and shared read-only by
// every group's queue; take() hands a whole segment out without copying when it fits.
// `inflight` counts events taken by a handler but not yet committed: they still occupy memory
// (they are redelivered on failure), so they count towards the bound.

import type { StreamEvent } from '../transport.js';

export class EventQueue {
  private segments: (readonly StreamEvent[])[] = [];
  private head = 0; // index of the first live segment
  private offset = 0; // events already taken from segments[head]
  /** Events not yet taken. */
  pending = 0;
  /** Events taken, not yet committed. */
  inflight = 0;

  get queued(): number {
    return this.pending + this.inflight;
  }

  push(events: readonly StreamEvent[]): void {
    if (events.length === 0) return;
    this.segments.push(events);
    this.pending += events.length;
  }

  /** Up to `max` events, oldest first; they count as in-flight until commit(). */
  take(max: number): readonly StreamEvent[] {
    if (this.pending === 0) return EMPTY;
    const first = this.segments[this.head]!;
    let out: readonly StreamEvent[];
    if (this.offset === 0 && first.length <= max) {
      // Whole segment: no copy. Small segments (< max/2) are merged with the next ones instead.
      if (first.length * 2 >= max || this.head + 1 === this.segments.length) {
        out = first;
        this.dropHead();
      } else {
        out = this.gather(max);
      }
    } else if (first.length - this.offset >= max) {
      out = first.slice(this.offset, this.offset + max);
      this.offset += max;
      if (this.offset === first.length) this.dropHead();
    } else {
      out = this.gather(max);
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
      this.push(i === other.head && other.offset > 0 ? seg.slice(other.offset) : seg);
    }
    other.clear();
  }

  private gather(max: number): StreamEvent[] {
    const out: StreamEvent[] = [];
    while (out.length < max && this.head < this.segments.length) {
      const seg = this.segments[this.head]!;
      const n = Math.min(max - out.length, seg.length - this.offset);
      for (let i = 0; i < n; i++) out.push(seg[this.offset + i]!);
      this.offset += n;
      if (this.offset === seg.length) this.dropHead();
    }
    return out;
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

const EMPTY: readonly StreamEvent[] = Object.freeze([]) as readonly StreamEvent[];
