// KafkaTransport against a real broker: round trip of every event type, per-flow ordering across
// partitions, two sensors in one topic, scale-out of one group over two consumers, the config
// section (compression, acks, format).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '@platformatic/kafka';
import { KAFKA_CONFIG_SECTION, KafkaTransport, batchOrigin, createKafkaTransport, kafkaOptionsFromConfig } from '../../streams/kafka/index.js';
import { ConfigError, validate } from '../../streams/config.js';
import { SubscriptionFailedError } from '../../streams/errors.js';
import { EventBatch } from '../../streams/events/batch.js';
import { EVENT_TYPE_NAMES, topicFor, type EventType } from '../../streams/events/table.js';
import { exitSafetyNet, startBroker, uniquePrefix, until, type Broker } from './harness.js';
import { flowBatch } from './events.js';
import { samples } from '../streams/events/samples.js';

/** Partition count and log-end offset per partition of `topic`. */
async function topicState(bootstrap: string, topic: string): Promise<{ partitions: number; ends: bigint[] }> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [bootstrap] });
  try {
    const md = await admin.metadata({ topics: [topic], forceUpdate: true });
    const partitions = md.topics.get(topic)!.partitionsCount;
    const lo = await admin.listOffsets({ topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, i) => ({ partitionIndex: i, timestamp: -1n })) }] });
    const ends = new Array<bigint>(partitions).fill(0n);
    for (const p of lo[0]!.partitions) ends[p.partitionIndex] = p.offset;
    return { partitions, ends };
  } finally {
    await admin.close();
  }
}

describe('kafka transport (real broker)', { timeout: 600_000 }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    await broker?.stop();
    exitSafetyNet();
  });

  it('round-trips every event type through its own topic, created with the configured partitions', async () => {
    const prefix = uniquePrefix('rt');
    const { transport: t, topicPrefix } = createKafkaTransport({ kafka: broker.bootstrap, topicPrefix: prefix, partitions: 3 });
    const all = samples();
    const types = EVENT_TYPE_NAMES.filter((x) => x !== 'control'); // control events never reach a data handler
    const got = new Map<EventType, Record<string, unknown>[]>();
    const origins: string[] = [];
    try {
      for (const type of types) {
        got.set(type, []);
        await t.subscribe(topicFor(type, topicPrefix), { group: 'rt' }, async (b: EventBatch) => {
          got.get(type)!.push(...(b.rows() as unknown as Record<string, unknown>[]));
          origins.push(batchOrigin(b) ?? '');
        });
      }
      for (const type of types) await t.publish(topicFor(type, topicPrefix), EventBatch.fromRows(type, [all[type]]));
      // Arrays of events are accepted too (converted to the topic's type).
      await t.publish(topicFor('flow', topicPrefix), [all.flow]);
      await until(() => types.every((x) => got.get(x)!.length === (x === 'flow' ? 2 : 1)), 60_000, 'every event');
      for (const type of types) assert.deepEqual(got.get(type)![0], all[type], `${type} round trip`);
      assert.ok(origins.every((o) => o.startsWith(`${t.id}-`)), `origins are the producer's message ids: ${origins.join(' ')}`);
      assert.equal(new Set(origins).size, origins.length, 'one id per message');

      assert.equal((await topicState(broker.bootstrap, topicFor('flow', prefix))).partitions, 3);
      assert.equal(await t.flush(10_000), true); // acks can be processed after the consumer saw the events
      const s = t.stats().topics[topicFor('flow', prefix)]!;
      assert.equal(s.published, 2);
      assert.equal(s.sent, 2);
      assert.equal(s.shed, 0);
      assert.equal(s.groups['rt']!.delivered, 2);
      assert.equal(s.refused, 0);
      await assert.rejects(t.publish(topicFor('dns', prefix), EventBatch.fromRows('flow', [all.flow])), /a flow batch where dns events belong/);
    } finally {
      await t.close();
    }
  });

  it('keeps each flow in order across 6 partitions; two sensors land in the same topic, labelled', async () => {
    const prefix = uniquePrefix('order');
    const topic = topicFor('flow', prefix);
    const pub = new KafkaTransport({ brokers: [broker.bootstrap], partitions: 6, sendBatchEvents: 500 });
    const sub = new KafkaTransport({ brokers: [broker.bootstrap] });
    const a = flowBatch(40, 50, 'sensor-a');
    const b = flowBatch(40, 50, 'sensor-b');
    const seen = new Map<string, number[]>();
    const sensors = new Set<string>();
    let n = 0;
    try {
      await sub.subscribe(topic, { group: 'order', maxBatch: 100 }, async (batch: EventBatch<'flow'>) => {
        assert.ok(batch.length <= 100, 'maxBatch holds');
        for (const e of batch) {
          let arr = seen.get(e.flowid);
          if (!arr) seen.set(e.flowid, (arr = []));
          arr.push(e.seq);
          sensors.add(e.obname);
        }
        n += batch.length;
      });
      for (let i = 0; i < a.length; i += 250) {
        await Promise.all([pub.publish(topic, a.slice(i, i + 250)), pub.publish(topic, b.slice(i, i + 250))]);
      }
      assert.equal(await pub.flush(60_000), true);
      await until(() => n >= a.length + b.length, 90_000, 'all events consumed');
      assert.equal(n, a.length + b.length, 'no duplicates in a clean run');
      assert.equal(seen.size, 80);
      for (const [flowid, seqs] of seen) assert.deepEqual(seqs, Array.from({ length: 50 }, (_, i) => i), `order of ${flowid}`);
      assert.deepEqual([...sensors].sort(), ['sensor-a', 'sensor-b']);

      const { ends } = await topicState(broker.bootstrap, topic);
      assert.equal(ends.length, 6);
      assert.ok(ends.filter((o) => o > 0n).length >= 4, `events spread over partitions: ${ends.join(',')}`);
      assert.equal(await sub.waitForGroup(topic, 'order', 30_000), true);
      assert.equal(await sub.drain(topic, 'order', 30_000), true);
    } finally {
      await pub.close();
      await sub.close();
    }
  });

  it('splits partitions between two consumers of one group; stopping one moves its partitions', async () => {
    const prefix = uniquePrefix('scale');
    const topic = topicFor('flow', prefix);
    const pub = new KafkaTransport({ brokers: [broker.bootstrap], partitions: 4 });
    const w1 = new KafkaTransport({ brokers: [broker.bootstrap] });
    const w2 = new KafkaTransport({ brokers: [broker.bootstrap] });
    const by = { w1: new Set<string>(), w2: new Set<string>() };
    const total = new Map<string, number>();
    const count = (w: 'w1' | 'w2') => async (batch: EventBatch<'flow'>) => {
      for (const e of batch) {
        by[w].add(e.flowid);
        const k = `${e.flowid}/${e.seq}`;
        total.set(k, (total.get(k) ?? 0) + 1);
      }
    };
    try {
      await pub.ensureTopic(topic);
      const s1 = await w1.subscribe(topic, { group: 'workers' }, count('w1'));
      await until(() => KafkaTransport.assignment(s1).length === 4, 30_000, 'w1 owns all 4 partitions');
      const s2 = await w2.subscribe(topic, { group: 'workers' }, count('w2'));
      await until(
        () => KafkaTransport.assignment(s1).length === 2 && KafkaTransport.assignment(s2).length === 2,
        45_000,
        'a 2/2 split',
      );
      const split = [...KafkaTransport.assignment(s1), ...KafkaTransport.assignment(s2)].sort();
      assert.deepEqual(split, [0, 1, 2, 3]);

      const first = flowBatch(64, 5, 'phase1');
      await pub.publish(topic, first);
      await until(() => total.size === first.length, 60_000, 'phase 1 consumed');
      assert.ok(by.w1.size > 0 && by.w2.size > 0, `both workers got flows (${by.w1.size}/${by.w2.size})`);
      for (const f of by.w1) assert.ok(!by.w2.has(f), `flow ${f} went to one worker only`);

      await s2.close();
      await until(() => KafkaTransport.assignment(s1).length === 4, 45_000, 'w1 takes the partitions back');
      by.w1.clear();
      const second = flowBatch(64, 5, 'phase2');
      await pub.publish(topic, second);
      await until(() => total.size === first.length + second.length, 60_000, 'phase 2 consumed by w1');
      assert.equal(by.w1.size, 64, 'every phase-2 flow reached the remaining worker');
      for (const [k, c] of total) assert.equal(c, 1, `${k} delivered once`);
    } finally {
      await pub.close();
      await w1.close();
      await w2.close();
    }
  });

  it('a handler that keeps failing fails its subscription after its retries; the batch is not committed and comes again', async () => {
    const topic = topicFor('flow', uniquePrefix('fail'));
    const t = new KafkaTransport({ brokers: [broker.bootstrap], partitions: 1 });
    const attempts: number[] = [];
    try {
      const sub = await t.subscribe(topic, {
        group: 'fail', retry: { maxAttempts: 3, initialDelayMs: 5 },
        onError: (_e, ctx) => void attempts.push(ctx.attempt),
      }, async () => {
        throw new Error('disk full');
      });
      await t.publish(topic, flowBatch(10, 1));
      await assert.rejects(sub.done, (e: unknown) => e instanceof SubscriptionFailedError && /stopped after 3 failed attempts.*disk full/.test(e.message));
      assert.deepEqual(attempts, [1, 2, 3]);
      const g = t.stats().topics[topic]!.groups['fail']!;
      assert.equal(g.failed, true);
      assert.equal(g.errors, 3);
      assert.equal(g.undelivered, 10);
      assert.equal(await t.waitForGroup(topic, 'fail', 1000), false, 'nothing committed');
      let n = 0;
      await t.subscribe(topic, { group: 'fail' }, async (b) => {
        n += b.length;
      });
      await until(() => n === 10, 30_000, 'the batch delivered again to the next member');
    } finally {
      await assert.rejects(t.close(), SubscriptionFailedError, 'close() reports the failed subscription');
    }
  });

  it('builds a working transport from the kafka: config section (compression, acks 1, format); unknown keys are errors', async () => {
    const schema = { kafka: KAFKA_CONFIG_SECTION };
    assert.throws(() => validate(schema, { kafka: { brokerz: 'x', partitions: 0, format: 'avro' } }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /kafka\.brokerz/);
      assert.match(e.message, /kafka\.partitions/);
      assert.match(e.message, /kafka\.format/);
      return true;
    });
    assert.equal(kafkaOptionsFromConfig(validate(schema, {})), undefined, 'no brokers: embedded transport');
    const defaults = kafkaOptionsFromConfig(validate(schema, { kafka: { brokers: broker.bootstrap } }))!;
    assert.equal(defaults.format, 'arrow');
    assert.equal(defaults.compression, 'lz4');
    assert.equal(defaults.maxMessageBytes, 900 * 1024);
    for (const [compression, format] of [['gzip', 'arrow'], ['snappy', 'json'], ['none', 'arrow']] as const) {
      const cfg = validate(schema, { kafka: { brokers: broker.bootstrap, partitions: 2, acks: '1', compression, format, max_message_kb: 64 } });
      const opts = kafkaOptionsFromConfig(cfg)!;
      assert.equal(opts.partitions, 2);
      assert.equal(opts.acks, 1);
      assert.equal(opts.maxMessageBytes, 64 * 1024);
      const t = new KafkaTransport(opts);
      assert.equal(t.options.idempotent, false, 'idempotence needs acks=all');
      const topic = topicFor('flow', uniquePrefix(`cfg-${compression}`));
      let n = 0;
      try {
        await t.subscribe(topic, { group: 'cfg' }, async (b) => {
          n += b.length;
        });
        // 2000 flows: more than 64 KiB per partition in Arrow, so messages are split.
        await t.publish(topic, flowBatch(400, 5));
        await until(() => n >= 2000, 60_000, `2000 events (${compression}, ${format})`);
        assert.equal(n, 2000);
        assert.equal(await t.flush(10_000), true); // acks can be processed after the consumer saw the events
        assert.equal(t.stats().topics[topic]!.sent, 2000);
      } finally {
        await t.close();
      }
    }
  });
});
