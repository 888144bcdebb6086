// KafkaTransport against a real broker: round trip of every event type, per-flow ordering across
// partitions, two sensors into the same topics, scale-out of one group over two consumers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { KAFKA_CONFIG_SECTION, KafkaTransport, createKafkaTransport, kafkaOptionsFromConfig } from '../../streams/kafka/index.js';
import { ConfigError, validate } from '../../streams/config.js';
import { topicFor, type EventType, type FlowEvent } from '../../streams/schema.js';
import type { StreamEvent } from '../../streams/transport.js';
import { exitSafetyNet, startBroker, uniquePrefix, until, type Broker } from './harness.js';
import { flowStream, otherEvents } from './events.js';

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
    const got = new Map<string, StreamEvent[]>();
    try {
      const samples: Record<string, StreamEvent> = { flow: flowStream(1, 1)[0]!, ...(otherEvents() as unknown as Record<string, StreamEvent>) };
      for (const type of Object.keys(samples)) {
        got.set(type, []);
        await t.subscribe(topicFor(type as EventType, topicPrefix), { group: 'rt' }, async (b) => {
          got.get(type)!.push(...b);
        });
      }
      for (const [type, e] of Object.entries(samples)) await t.publish(topicFor(type as EventType, topicPrefix), [e]);
      await until(() => [...got.values()].every((v) => v.length === 1), 60_000, 'one event per topic');
      for (const [type, e] of Object.entries(samples)) assert.deepEqual(got.get(type)![0], e, `${type} round trip`);

      const admin = new kafkajs.Kafka({ brokers: [broker.bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
      await admin.connect();
      const md = await admin.fetchTopicMetadata({ topics: [topicFor('flow', prefix)] });
      await admin.disconnect();
      assert.equal(md.topics[0]!.partitions.length, 3);
      const s = t.stats().topics[topicFor('flow', prefix)]!;
      assert.equal(s.published, 1);
      assert.equal(s.sent, 1);
      assert.equal(s.shed, 0);
      assert.equal(s.groups['rt']!.delivered, 1);
    } finally {
      await t.close();
    }
  });

  it('keeps each flow in order across 6 partitions; two sensors land in the same topic, labelled', async () => {
    const prefix = uniquePrefix('order');
    const topic = topicFor('flow', prefix);
    const pub = new KafkaTransport({ brokers: [broker.bootstrap], partitions: 6, sendBatchEvents: 500 });
    const sub = new KafkaTransport({ brokers: [broker.bootstrap] });
    const a = flowStream(40, 50, 'sensor-a');
    const b = flowStream(40, 50, 'sensor-b');
    const seen = new Map<string, number[]>();
    const partitionsSeen = new Set<string>();
    let n = 0;
    try {
      await sub.subscribe<FlowEvent>(topic, { group: 'order', maxBatch: 100 }, async (batch) => {
        for (const e of batch) {
          let arr = seen.get(e.flowid);
          if (!arr) seen.set(e.flowid, (arr = []));
          arr.push(e.seq);
          partitionsSeen.add(e.obname);
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
      assert.deepEqual([...partitionsSeen].sort(), ['sensor-a', 'sensor-b']);

      const admin = new kafkajs.Kafka({ brokers: [broker.bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
      await admin.connect();
      const offs = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      assert.equal(offs.length, 6);
      assert.ok(offs.filter((o) => Number(o.high) > 0).length >= 4, `events spread over partitions: ${offs.map((o) => o.high).join(',')}`);
      assert.equal(await sub.waitForGroup(topic, 'order', 30_000), true);
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
    const count = (w: 'w1' | 'w2') => async (batch: readonly FlowEvent[]) => {
      for (const e of batch) {
        by[w].add(e.flowid);
        const k = `${e.flowid}/${e.seq}`;
        total.set(k, (total.get(k) ?? 0) + 1);
      }
    };
    try {
      await pub.ensureTopic(topic);
      const s1 = await w1.subscribe<FlowEvent>(topic, { group: 'workers' }, count('w1'));
      await until(() => KafkaTransport.assignment(s1).length === 4, 30_000, 'w1 owns all 4 partitions');
      const s2 = await w2.subscribe<FlowEvent>(topic, { group: 'workers' }, count('w2'));
      await until(
        () => KafkaTransport.assignment(s1).length === 2 && KafkaTransport.assignment(s2).length === 2,
        45_000,
        'a 2/2 split',
      );
      const split = [...KafkaTransport.assignment(s1), ...KafkaTransport.assignment(s2)].sort();
      assert.deepEqual(split, [0, 1, 2, 3]);

      const first = flowStream(64, 5, 'phase1');
      await pub.publish(topic, first);
      await until(() => total.size === first.length, 60_000, 'phase 1 consumed');
      assert.ok(by.w1.size > 0 && by.w2.size > 0, `both workers got flows (${by.w1.size}/${by.w2.size})`);
      for (const f of by.w1) assert.ok(!by.w2.has(f), `flow ${f} went to one worker only`);

      await s2.close();
      await until(() => KafkaTransport.assignment(s1).length === 4, 45_000, 'w1 takes the partitions back');
      by.w1.clear();
      const second = flowStream(64, 5, 'phase2');
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

  it('builds a working transport from the kafka: config section (gzip, acks 1); unknown keys are errors', async () => {
    const schema = { kafka: KAFKA_CONFIG_SECTION };
    assert.throws(() => validate(schema, { kafka: { brokerz: 'x', partitions: 0 } }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /kafka\.brokerz/);
      assert.match(e.message, /kafka\.partitions/);
      return true;
    });
    assert.equal(kafkaOptionsFromConfig(validate(schema, {})), undefined, 'no brokers: embedded transport');
    const cfg = validate(schema, { kafka: { brokers: broker.bootstrap, partitions: 2, acks: '1', compression: 'gzip' } });
    const opts = kafkaOptionsFromConfig(cfg)!;
    assert.equal(opts.partitions, 2);
    assert.equal(opts.acks, 1);
    const t = new KafkaTransport(opts);
    assert.equal(t.options.idempotent, false, 'idempotence needs acks=all');
    const topic = topicFor('flow', uniquePrefix('cfg'));
    let n = 0;
    try {
      await t.subscribe(topic, { group: 'cfg' }, async (b) => {
        n += b.length;
      });
      await t.publish(topic, flowStream(5, 4));
      await until(() => n >= 20, 60_000, '20 events');
      assert.equal(n, 20);
    } finally {
      await t.close();
    }
  });
});
