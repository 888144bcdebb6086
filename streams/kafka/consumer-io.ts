// The plumbing under a subscription (consumer.ts): reading the client's message stream one message
// at a time, committing handled offsets without waiting for each commit, and logging refusals
// without flooding the log. All on the subscription's (the process's) JS thread.
import type { Message, MessagesStream } from '@platformatic/kafka';
import type { BatchFormatError } from '../errors.js';
import { log } from '../log.js';
import { describeKafkaError } from './errors.js';

const COMPONENT = 'kafka';

export type Msg = Message<string, Buffer, string, string>;
export type Stream = MessagesStream<string, Buffer, string, string>;

/**
 * Reads a message stream in paused mode: next() waits for a message, readNow() takes one only if
 * it is already fetched (so a batch can be grown from what is there without waiting). The stream
 * buffers at most its highWaterMark of messages plus one fetch: memory stays bounded whatever the
 * backlog. next() throws the stream's error (a fetch the client gave up on).
 */
export class MessageReader {
  private waiter: (() => void) | null = null;
  private error: unknown = null;
  private ended = false;
  private back: Msg | null = null;

  constructor(private readonly stream: Stream) {
    stream.on('readable', () => this.wake());
    stream.on('end', () => this.stop());
    stream.on('close', () => this.stop());
    stream.on('error', (e: unknown) => {
      this.error = e;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** No more messages from this reader (the stream ended, or the subscription stops). */
  stop(): void {
    this.ended = true;
    this.wake();
  }

  /** Hand `m` out again on the next read (it did not fit the batch being built). */
  pushBack(m: Msg): void {
    this.back = m;
  }

  readNow(): Msg | null {
    if (this.back !== null) {
      const m = this.back;
      this.back = null;
      return m;
    }
    if (this.ended) return null;
    return this.stream.read() as Msg | null;
  }

  async next(): Promise<Msg | null> {
    for (;;) {
      const m = this.readNow();
      if (m !== null) return m;
      if (this.error !== null) throw this.error;
      if (this.ended) return null;
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    }
  }
}

/**
 * Commits handled offsets, coalesced: while one round of OffsetCommit requests is in flight, the
 * latest handled message per partition waits for the next round, so the consuming loop never
 * waits for a commit (one awaited RPC per message capped a subscription at a few hundred messages
 * per second). Only offsets whose handler resolved are ever marked: at-least-once holds; a crash
 * loses at most the round in flight, which is then delivered again. A failed commit (rebalance,
 * broker away) likewise only means a redelivery.
 */
export class CommitQueue {
  private readonly latest = new Map<number, Msg>();
  private running: Promise<void> | null = null;

  constructor(private readonly group: string) {}

  /** m was handled: commit its offset + 1 (with the next round). */
  mark(m: Msg): void {
    this.latest.set(m.partition, m);
    this.running ??= this.rounds().finally(() => {
      this.running = null;
    });
  }

  private async rounds(): Promise<void> {
    while (this.latest.size > 0) {
      const round = [...this.latest.values()];
      this.latest.clear();
      await Promise.all(round.map(async (m) => {
        try {
          await m.commit();
        } catch (e) {
          log('debug', COMPONENT, `commit of ${m.topic}/${m.partition}@${m.offset} failed (${describeKafkaError(e)}): delivered again later`, { group: this.group });
        }
      }));
    }
  }

  /** Resolves once everything marked so far is committed (or its commit failed). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }
}

/** Refusal lines per window and subscription, and the window. */
const LINES = 10;
const WINDOW_MS = 5000;

/**
 * One log line per refused message — topic, partition, offset and the reason — at most LINES per
 * 5 s: a topic full of garbage must not flood the log; the lines left out are counted in the next.
 */
export class RefusalLog {
  private windowStart = 0;
  private lines = 0;
  private notLogged = 0;

  constructor(private readonly group: string) {}

  refused(m: Msg, e: BatchFormatError): void {
    const now = Date.now();
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.lines = 0;
    }
    if (this.lines >= LINES) {
      this.notLogged++;
      return;
    }
    this.lines++;
    log('warn', COMPONENT, `refused message of ${m.topic} partition ${m.partition} offset ${m.offset}: ${e.message}`, {
      group: this.group,
      ...(this.notLogged > 0 ? { not_logged_before: this.notLogged } : {}),
    });
    this.notLogged = 0;
  }
}
