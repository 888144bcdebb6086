// The transport's view of the cluster, over one @platformatic/kafka Admin: reaching the brokers at
// start (with one clear line per attempt while the delay grows), topics (created when missing, their
// partition counts cached), log-end offsets, a group's committed offsets, and waiting for a group to
// catch up with a topic (how a bounded run ends).
//
// connect() probes with a client that does not retry by itself (retries: 0), so each of our
// attempts is one line and a refused password is seen on the first one: an AuthenticationError
// anywhere in the error tree fails at once (KafkaAuthError) instead of retrying forever, which is
// what the producer alone would do. Everything else uses a client with a few retries of its own.
import { Admin } from '@platformatic/kafka';
import { TransportClosedError, messageOf } from '../errors.js';
import { log } from '../log.js';
import { KafkaAuthError, KafkaUnreachableError, describeKafkaError, isAuthError, isUnknownTopic, protocolErrorIn } from './errors.js';
import { clientOptions, type ResolvedKafkaTransportOptions } from './options.js';

const COMPONENT = 'kafka';

/** Resolves after `ms`, or early when `signal` aborts (close() must not wait out a backoff). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `p`, or undefined after `ms` (close() must end even when a broker call hangs). */
export function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * The Kafka consumer group id of transport group `group` on `topic`. Transport groups are scoped
 * per topic (an analyzer group reads flows and dns independently), so one Kafka group per
 * (group, topic): a member then only ever gets partitions of the topic it subscribed to.
 */
export function groupIdFor(group: string, topic: string): string {
  return `${group}@${topic}`;
}

export class KafkaAdmin {
  private admin: Admin | null = null;
  private connecting: Promise<void> | null = null;
  private readonly partitionCounts = new Map<string, number>();
  private readonly ensuring = new Map<string, Promise<number>>();
  connected = false;

  constructor(private readonly o: ResolvedKafkaTransportOptions, private readonly signal: AbortSignal) {}

  /**
   * Reach the brokers, retrying with backoff; the first failure is logged as one clear line, later
   * ones as the delay grows. Rejects with KafkaUnreachableError after connectTimeoutMs, or
   * KafkaAuthError at once on refused credentials.
   */
  connect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    this.connecting ??= this.connectLoop().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connectLoop(): Promise<void> {
    const o = this.o;
    const start = Date.now();
    let delay = o.backoff.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      if (this.signal.aborted) throw new TransportClosedError('kafka');
      const probe = new Admin({ ...clientOptions(o, 'admin'), retries: 0 });
      probe.on('error', () => undefined);
      try {
        await probe.metadata({ topics: [] });
        this.admin ??= this.client();
        this.connected = true;
        if (attempt > 1) log('info', COMPONENT, 'connected', { brokers: o.brokers.join(','), attempts: attempt });
        return;
      } catch (e) {
        if (isAuthError(e)) throw new KafkaAuthError(o.brokers, describeKafkaError(e), e);
        const waited = Date.now() - start;
        if (waited >= o.connectTimeoutMs) {
          throw new KafkaUnreachableError(o.brokers, `${describeKafkaError(e)} (gave up after ${Math.round(waited / 1000)} s)`, e);
        }
        // One line per attempt while the delay grows; once at the max delay, one line per attempt.
        log(attempt === 1 ? 'error' : 'warn', COMPONENT,
          `brokers ${o.brokers.join(',')} unreachable (${describeKafkaError(e)}); retrying in ${(delay / 1000).toFixed(1)} s`,
          { attempt });
        await sleep(delay, this.signal);
        delay = Math.min(delay * 2, o.backoff.maxDelayMs);
      } finally {
        await bounded(probe.close().catch(() => undefined), 2000);
      }
    }
  }

  private client(): Admin {
    const a = new Admin({ ...clientOptions(this.o, 'admin'), retries: 3, retryDelay: 250 });
    a.on('error', (e: unknown) => log('debug', COMPONENT, `admin: ${messageOf(e)}`));
    return a;
  }

  private async ready(): Promise<Admin> {
    await this.connect();
    return this.admin!;
  }

  /** Partitions of `topic` as last seen (undefined until ensureTopic resolved for it). */
  cachedPartitions(topic: string): number | undefined {
    return this.partitionCounts.get(topic);
  }

  /** Forget what is cached about `topic` (after a metadata error): the next ensureTopic asks again. */
  forget(topic: string): void {
    this.partitionCounts.delete(topic);
  }

  /**
   * Create `topic` when missing (with `partitions`, default the configured count, and the
   * configured replication; created concurrently by another process is fine); resolves with its
   * partition count.
   */
  ensureTopic(topic: string, partitions = this.o.partitions): Promise<number> {
    const known = this.partitionCounts.get(topic);
    if (known !== undefined) return Promise.resolve(known);
    let p = this.ensuring.get(topic);
    if (!p) {
      p = this.createOrDescribe(topic, partitions).finally(() => this.ensuring.delete(topic));
      this.ensuring.set(topic, p);
    }
    return p;
  }

  private async createOrDescribe(topic: string, partitions: number): Promise<number> {
    const admin = await this.ready();
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      try {
        await admin.createTopics({ topics: [topic], partitions, replicas: this.o.replicationFactor });
        log('debug', COMPONENT, 'topic created', { topic, partitions });
      } catch (e) {
        if (protocolErrorIn(e, ['TOPIC_ALREADY_EXISTS']) === undefined) throw e;
      }
    }
    // Until every partition has a leader, a produce or fetch would only fail and retry.
    const deadline = Date.now() + 30_000;
    for (;;) {
      // Just after CreateTopics the broker answering may not know the topic yet: the client then
      // throws "Unknown topic" rather than returning it without leaders. Both mean: ask again.
      const md = await admin.metadata({ topics: [topic], forceUpdate: true }).catch((e: unknown) => {
        if (isUnknownTopic(e, topic) && Date.now() <= deadline) return null;
        throw e;
      });
      const t = md?.topics.get(topic);
      if (t && t.partitions.length === t.partitionsCount && t.partitions.every((p) => p.leader >= 0)) {
        this.partitionCounts.set(topic, t.partitionsCount);
        return t.partitionsCount;
      }
      if (Date.now() > deadline) throw new Error(`topic ${topic}: partitions without a leader after 30 s`);
      await sleep(100, this.signal);
    }
  }

  /** Log-end offset of every partition of `topic` (index = partition). */
  async logEndOffsets(topic: string): Promise<bigint[]> {
    const n = await this.ensureTopic(topic);
    const admin = await this.ready();
    const r = await admin.listOffsets({
      topics: [{ name: topic, partitions: Array.from({ length: n }, (_, i) => ({ partitionIndex: i, timestamp: -1n })) }],
    });
    const out = new Array<bigint>(n).fill(0n);
    for (const t of r) for (const p of t.partitions) out[p.partitionIndex] = p.offset;
    return out;
  }

  /** Committed offsets of Kafka group `groupId` on `topic` (index = partition; -1n = none). */
  async committedOffsets(groupId: string, topic: string, partitions: number): Promise<bigint[]> {
    const admin = await this.ready();
    const r = await admin.listConsumerGroupOffsets({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes: Array.from({ length: partitions }, (_, i) => i) }] }],
    });
    const out = new Array<bigint>(partitions).fill(-1n);
    for (const g of r) for (const t of g.topics) for (const p of t.partitions) out[p.partitionIndex] = p.committedOffset;
    return out;
  }

  /**
   * Resolves true once transport group `group` has committed every event of `topic` present now
   * (its log-end offsets at the call), false after timeoutMs. Transient errors (a broker
   * restarting) are retried until the deadline.
   */
  async waitForGroup(topic: string, group: string, timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let ends: bigint[] | null = null;
    for (;;) {
      try {
        ends ??= await this.logEndOffsets(topic);
        const committed = await this.committedOffsets(groupIdFor(group, topic), topic, ends.length);
        if (ends.every((end, p) => end === 0n || committed[p]! >= end)) return true;
      } catch (e) {
        if (e instanceof KafkaAuthError || this.signal.aborted) throw e;
        log('debug', COMPONENT, `waiting for group ${group} on ${topic}: ${describeKafkaError(e)}`);
      }
      if (Date.now() >= deadline || this.signal.aborted) return false;
      await sleep(200, this.signal);
    }
  }

  /** Delete Kafka group `groupId` (a throw-away group); a group that is gone already is fine. */
  async deleteGroup(groupId: string): Promise<void> {
    const admin = await this.ready();
    try {
      await admin.deleteGroups({ groups: [groupId] });
    } catch (e) {
      if (protocolErrorIn(e, ['GROUP_ID_NOT_FOUND']) === undefined) throw e;
    }
  }

  async close(): Promise<void> {
    const a = this.admin;
    this.admin = null;
    this.connected = false;
    if (a) await bounded(a.close().catch(() => undefined), 5000);
  }
}
