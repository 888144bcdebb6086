// The Transport contract: how every module publishes and consumes events. Two implementations:
// `embedded/` (in-process, the default) and `kafka/`. The shape follows Kafka so the second one is
// a thin adapter:
//   - topic      = Kafka topic (`<prefix>.flows`, ...; see events/table.ts topicFor)
//   - batch      = what travels: an EventBatch (events of the topic's type by column; on Kafka one
//                  Arrow IPC message per partition, or one JSON message per event). The embedded
//                  transport carries any Batch (an array works too), the Kafka one EventBatches.
//   - key        = the type's key column (flow id / host): on Kafka it picks the partition, so all
//                  events of a flow stay in one partition, in order
//   - group      = Kafka consumer group: every group sees every event of the topic; within a group
//                  each event goes to one subscriber
//   - handler    = a consumer's batch callback; the handler's promise resolving IS the commit: the next batch
//                  of that subscriber comes only after it (at-least-once: a batch whose handler
//                  failed is redelivered, so handlers must tolerate duplicates — sinks dedup by
//                  (flowid, seq))
//   - publish()  = producer.send(): resolves once the events are accepted (embedded: queued in
//                  bounded memory; Kafka: buffered within a bound, then acked). It waits while the
//                  transport is full; it never drops events silently.
//   - drain()    = the end of a bounded run: everything published so far handled by a group.
// Counters are in events (rows), not batches.

import type { EventBatch } from './events/batch.js';

/** What a transport moves: a sequence of events that can be cut (an EventBatch, or an array). */
export interface Batch {
  readonly length: number;
  slice(start: number, end: number): Batch;
}

export type BatchHandler<B extends Batch = EventBatch> = (batch: B) => Promise<void>;

export interface RetryOptions {
  /** Total attempts per batch, the first one included (default 5). */
  maxAttempts?: number;
  /** Delay before the 2nd attempt, doubled each time (default 10 ms). */
  initialDelayMs?: number;
  /** Upper bound of the delay (default 1000 ms). */
  maxDelayMs?: number;
}

export interface HandlerErrorContext {
  topic: string;
  group: string;
  /** 1-based attempt that failed. */
  attempt: number;
  batchSize: number;
  /** true when this was the last attempt: the subscription stops after it. */
  final: boolean;
}

export interface SubscribeOptions {
  /** Consumer group. Each group receives every event; within a group each event is delivered once. */
  group: string;
  /** Largest batch handed to the handler (default: the transport's default, 1024 for embedded). */
  maxBatch?: number;
  retry?: RetryOptions;
  /** Called for every failed attempt (after the error counter is incremented). Must not throw. */
  onError?: (error: Error, ctx: HandlerErrorContext) => void;
}

export interface Subscription {
  readonly topic: string;
  readonly group: string;
  /**
   * Settles when the subscription ends: resolves after close() (of the subscription or the
   * transport); rejects with SubscriptionFailedError when a batch failed all its attempts.
   * (A rejection nobody awaits is not reported as unhandled.)
   */
  readonly done: Promise<void>;
  /** Stop after the in-flight batch (if any); resolves when stopped. Idempotent. */
  close(): Promise<void>;
}

export interface GroupStats {
  subscribers: number;
  /** Events handed to this group's handlers and committed. */
  delivered: number;
  /** Events waiting for this group, in-flight batches included. */
  queued: number;
  /** Failed handler attempts. */
  errors: number;
  /** Events this group will never get: it failed for good or its last subscriber left. */
  undelivered: number;
  failed: boolean;
}

export interface TopicStats {
  /** Events accepted by publish(). */
  published: number;
  /** Events committed by handlers, summed over groups. */
  delivered: number;
  /** Events held in memory for this topic now (the fullest group's queue, or the retained backlog). */
  queued: number;
  /** High-water mark of `queued`; never exceeds the configured bound. */
  maxQueued: number;
  /** publish() calls that had to wait for capacity (backpressure episodes). */
  blockedPublishes: number;
  /** Failed handler attempts, summed over groups. */
  errors: number;
  /** Events that some group will never get (see GroupStats.undelivered), summed over groups. */
  undelivered: number;
  groups: Record<string, GroupStats>;
}

export interface TransportStats {
  transport: string;
  closed: boolean;
  topics: Record<string, TopicStats>;
}

export interface Transport {
  readonly name: string;

  /**
   * Accept the events of `batch` for `topic`, in order. Resolves once all are accepted; while the
   * topic has no room it waits (backpressure) — concurrent publishes to one topic are accepted in
   * call order. The transport takes the batch as is: do not mutate it afterwards.
   * Rejects with TransportClosedError after close() began.
   */
  publish<B extends Batch = EventBatch>(topic: string, batch: B): Promise<void>;

  /**
   * Deliver `topic`'s events to `handler` in batches of at most `maxBatch`, one batch at a time per
   * subscriber; the next batch comes after the handler's promise resolves (the commit). A handler
   * that throws is retried with exponential backoff (same batch, same order); after
   * `retry.maxAttempts` failures the subscription fails (see Subscription.done) and the rest of
   * the system keeps running.
   */
  subscribe<B extends Batch = EventBatch>(topic: string, opts: SubscribeOptions, handler: BatchHandler<B>): Promise<Subscription>;

  /**
   * Resolves true once `group` has handled (committed) every event published to `topic` before
   * the call — by this process, and on Kafka by anyone (the topic's end offsets) — or false after
   * `timeoutMs`. How a bounded run knows a stage is done with its input.
   */
  drain(topic: string, group: string, timeoutMs?: number): Promise<boolean>;

  /**
   * Stop accepting new events, deliver everything already accepted (publishes that were waiting
   * for room when close() was called included) to the subscribers, stop them, and resolve.
   * Rejects with the first SubscriptionFailedError if a subscription failed.
   */
  close(): Promise<void>;

  stats(): TransportStats;
}
