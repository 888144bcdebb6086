// The start-up gate of a pipeline with a capture: the capture starts first (packets are decoded
// on the sensor's worker thread while this thread loads the sinks and the analyzer sandboxes), and
// its first batches wait here — up to `bound` events, so memory stays bounded; past that the
// source waits — until every consumer has subscribed. Then they are published in order, and so
// is everything after.
import type { EventBatch } from '../streams/events/batch.js';

export class StartGate {
  private backlog: EventBatch[] | null = [];
  private held = 0;
  private open!: () => void;
  private readonly opened = new Promise<void>((resolve) => (this.open = resolve));

  constructor(
    private readonly publish: (b: EventBatch) => Promise<void>,
    private readonly bound: number,
  ) {}

  /** The source's emit function. */
  readonly emit = async (b: EventBatch): Promise<void> => {
    if (this.backlog) {
      if (this.held + b.length <= this.bound) {
        this.backlog.push(b);
        this.held += b.length;
        return;
      }
      await this.opened;
    }
    await this.publish(b);
  };

  /**
   * Publishes what waited, in order, then lets the source through. The source emits one batch at
   * a time, so batches it adds meanwhile join the backlog behind the others.
   */
  async release(): Promise<void> {
    const backlog = this.backlog;
    if (!backlog) return;
    while (backlog.length > 0) {
      const b = backlog.shift()!;
      this.held -= b.length;
      await this.publish(b);
    }
    this.backlog = null;
    this.open();
  }
}
