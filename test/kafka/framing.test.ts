// Kafka framing: murmur2 is Java's (Kafka's own test vectors); JSON and Arrow framing pick the same
// partitions for the same keys; every event type round-trips through a real broker in both
// framings; unreadable messages (other schema version, corrupt Arrow, not JSON, wrong type for the
// topic) are refused with one clear line each, counted and committed, and consumption goes on.
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Consumer, Producer, stringDeserializer, stringSerializer } from '@platformatic/kafka';
import { decodeArrow, encodeArrow } from '../../streams/events/arrow.js';
import { EventBatch } from '../../streams/events/batch.js';
import { EVENT_TYPE_NAMES, topicFor, type EventType } from '../../streams/events/table.js';
import {
  HEADER, KafkaTransport, MessageIds, encodeMessages, keyOf, murmur2, murmur2String, partitionOfKey, partitionsOf, type KafkaFormat,
} from '../../streams/kafka/index.js';
import type { ControlEvent } from '../../streams/schema.js';
import { exitSafetyNet, startBroker, uniquePrefix, until, type Broker } from './harness.js';
import { flowBatch } from './events.js';
import { samples } from '../streams/events/samples.js';

const JAVA_VECTORS: Record<string, number> = {
  21: -973932308,
  foobar: -790332482,
  'a-little-bit-long-string': -985981536,
  'a-little-bit-longer-string': -1486304829,
  lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8: -58897971,
  abc: 479470107,
};

test('murmur2 is Java\'s (seed 0x9747b28c); the ASCII fast path and UTF-8 keys agree with the byte version', () => {
  for (const [k, want] of Object.entries(JAVA_VECTORS)) {
    assert.equal(murmur2(Buffer.from(k, 'utf8')), want, k);
    assert.equal(murmur2String(k), want, `${k} (string)`);
    assert.equal(murmur2String(`xx${k}yy`, 2, 2 + k.length), want, `${k} (in place)`);
  }
  for (const k of ['', 'a', 'ab', 'héllo', '日本語のキー', 'flow-ü-1234', 'x'.repeat(1001)]) {
    assert.equal(murmur2String(k), murmur2(Buffer.from(k, 'utf8')), JSON.stringify(k));
  }
  assert.equal(partitionOfKey('foobar', 6), (-790332482 & 0x7fffffff) % 6);
});

test('Arrow and JSON framing put every key on the same partition; Arrow splits a partition above maxMessageBytes', () => {
  const b = flowBatch(500, 6); // 3000 events
  for (const partitions of [1, 3, 6, 7]) {
    const parts = partitionsOf(b, partitions);
    for (let i = 0; i < b.length; i++) assert.equal(parts[i], partitionOfKey(keyOf(b, i), partitions));
    const json = encodeMessages(b, partitions, 'json', 900 * 1024, new MessageIds());
    assert.equal(json.length, b.length);
    json.forEach((m, i) => {
      assert.equal(m.partition, parts[i]);
      assert.equal(m.key, keyOf(b, i));
    });
    const arrow = encodeMessages(b, partitions, 'arrow', 64 * 1024, new MessageIds('p'));
    const add = (m: Map<number, string[]>, p: number, row: string): void => {
      const a = m.get(p);
      if (a) a.push(row);
      else m.set(p, [row]);
    };
    const rows = new Map<number, string[]>();
    for (const m of arrow) {
      assert.ok(m.value.length <= 64 * 1024, `message of ${m.value.length} bytes within the limit`);
      const d = decodeArrow(m.value, 'flow');
      assert.equal(Number(m.headers[HEADER.events]), d.length);
      for (const e of d) {
        assert.equal(partitionOfKey(e.flowid, partitions), m.partition);
        add(rows, m.partition, `${e.flowid}/${e.seq}`);
      }
    }
    const want = new Map<number, string[]>();
    for (const e of b) add(want, partitionOfKey(e.flowid, partitions), `${e.flowid}/${e.seq}`);
    assert.deepEqual(rows, want, `rows per partition, in batch order (${partitions} partitions)`);
    assert.ok(partitions === 1 || arrow.length > partitions, 'split into several messages per partition');
    assert.equal(new Set(arrow.map((m) => m.headers[HEADER.batch])).size, arrow.length, 'one id per message');
  }
  const trigger = EventBatch.fromRows('trigger', [samples().trigger, { ...samples().trigger, hosts: [] }]);
  assert.equal(keyOf(trigger, 0), '10.1.2.3', 'a trigger is keyed by its first host');
  assert.equal(keyOf(trigger, 1), '', 'no host: the empty key');
});

/** Every message of `topic` (all partitions), read with a plain consumer until `n` arrived. */
async function readRaw(bootstrap: string, topic: string, n: number): Promise<{ partition: number; key: string; value: Buffer; headers: Map<string, string> }[]> {
  const c = new Consumer<string, Buffer, string, string>({
    clientId: 'test-raw', groupId: `raw-${topic}`, bootstrapBrokers: [bootstrap], autocommit: false, maxWaitTime: 100,
    deserializers: { key: stringDeserializer, headerKey: stringDeserializer, headerValue: stringDeserializer },
  });
  const stream = await c.consume({ topics: [topic], mode: 'earliest' });
  const out: { partition: number; key: string; value: Buffer; headers: Map<string, string> }[] = [];
  try {
    for await (const m of stream) {
      out.push({ partition: m.partition, key: m.key, value: m.value, headers: m.headers });
      if (out.length >= n) break;
    }
  } finally {
    await stream.close().catch(() => undefined);
    await c.close(true);
  }
  return out;
}

describe('kafka framing (real broker)', { timeout: 600_000 }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    await broker?.stop();
    exitSafetyNet();
  });

  for (const format of ['arrow', 'json'] as const) {
    it(`round-trips every event type with ${format} framing`, async () => {
      const prefix = uniquePrefix(`fr-${format}`);
      const t = new KafkaTransport({ brokers: [broker.bootstrap], partitions: 3, format });
      const all = samples();
      const got = new Map<EventType, unknown[]>();
      try {
        for (const type of EVENT_TYPE_NAMES) {
          got.set(type, []);
          await t.subscribe(topicFor(type, prefix), {
            group: 'fr',
            onControl: (e: ControlEvent) => void got.get('control')!.push(e),
          }, async (b: EventBatch) => {
            assert.notEqual(b.type, 'control', 'control events never reach the data handler');
            got.get(type)!.push(...b.rows());
          });
        }
        for (const type of EVENT_TYPE_NAMES) await t.publish(topicFor(type, prefix), EventBatch.fromRows(type, [all[type], all[type]]));
        await until(() => [...got.values()].every((v) => v.length === 2), 60_000, 'two events of every type');
        for (const type of EVENT_TYPE_NAMES) assert.deepEqual(got.get(type), [all[type], all[type]], `${type} (${format})`);
        const raw = await readRaw(broker.bootstrap, topicFor('dns', prefix), format === 'json' ? 2 : 1);
        assert.equal(raw[0]!.headers.get('content-type'), format === 'json' ? 'application/json' : 'application/vnd.apache.arrow.stream');
        const ctl = await readRaw(broker.bootstrap, topicFor('control', prefix), 2);
        assert.equal(ctl[0]!.headers.get('content-type'), 'application/json', 'the control topic is always JSON');
      } finally {
        await t.close();
      }
    });
  }

  it('JSON-framed and Arrow-framed topics hold each flow on the same partition', async () => {
    const prefix = uniquePrefix('same');
    const b = flowBatch(60, 3);
    const where: Record<KafkaFormat, Map<string, number>> = { arrow: new Map(), json: new Map() };
    for (const format of ['arrow', 'json'] as const) {
      const topic = topicFor('flow', `${prefix}-${format}`);
      const t = new KafkaTransport({ brokers: [broker.bootstrap], partitions: 6, format });
      try {
        await t.publish(topic, b);
        assert.equal(await t.flush(30_000), true);
      } finally {
        await t.close();
      }
      const msgs = await readRaw(broker.bootstrap, topic, format === 'json' ? b.length : new Set(partitionsOf(b, 6)).size);
      for (const m of msgs) {
        const ids = format === 'json' ? [JSON.parse(m.value.toString('utf8')).flowid as string] : [...decodeArrow(m.value, 'flow')].map((e) => e.flowid);
        if (format === 'json') assert.equal(m.key, ids[0], 'JSON messages are keyed by flow id');
        for (const id of ids) {
          const prev = where[format].get(id);
          assert.ok(prev === undefined || prev === m.partition, `${id}: one partition`);
          where[format].set(id, m.partition);
        }
      }
    }
    assert.equal(where.json.size, 60);
    assert.deepEqual([...where.arrow].sort(), [...where.json].sort());
  });

  it('refuses unreadable messages with one line each, counts and commits them, and keeps consuming', async () => {
    const prefix = uniquePrefix('refuse');
    const topic = topicFor('flow', prefix);
    const t = new KafkaTransport({ brokers: [broker.bootstrap], partitions: 2 });
    const raw = new Producer<string, Buffer, string, string>({
      clientId: 'test-raw', bootstrapBrokers: [broker.bootstrap],
      serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
    });
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    const good = flowBatch(5, 2);
    const v2 = new EventBatch('flow', good.length, good.cols, good.valid, 2);
    const valid = Buffer.from(encodeArrow(good));
    const arrowHeaders = { 'content-type': 'application/vnd.apache.arrow.stream' };
    const bad: { what: string; value: Buffer; headers: Record<string, string>; reason: RegExp }[] = [
      { what: 'unknown schema version (Arrow)', value: Buffer.from(encodeArrow(v2)), headers: {}, reason: /flow batch of schema version 2: this build reads version 1/ },
      { what: 'unknown schema version (JSON)', value: Buffer.from(JSON.stringify({ ...good.rows()[0], v: 2 })), headers: { 'content-type': 'application/json' }, reason: /flow event of schema version 2/ },
      { what: 'corrupt Arrow', value: Buffer.concat([valid.subarray(0, 400), Buffer.alloc(64, 0x5a)]), headers: arrowHeaders, reason: /Arrow|truncated|corrupt/i },
      { what: 'not JSON', value: Buffer.from('{"type": "flow", oops'), headers: { 'content-type': 'application/json' }, reason: /not JSON/ },
      { what: 'neither', value: Buffer.from('hello'), headers: {}, reason: /neither an Arrow IPC stream nor a JSON event/ },
      { what: 'wrong type (Arrow)', value: Buffer.from(encodeArrow(EventBatch.fromRows('dns', [samples().dns]))), headers: arrowHeaders, reason: /a dns batch where flow events belong/ },
      { what: 'wrong type (JSON)', value: Buffer.from(JSON.stringify(samples().dns)), headers: {}, reason: /a dns event where flow events belong/ },
    ];
    let seen = 0;
    try {
      await t.ensureTopic(topic);
      await raw.send({ messages: bad.map((m) => ({ topic, partition: 0, key: 'bad', value: m.value, headers: m.headers })) });
      // A good message behind the bad ones on the same partition, and more through the transport.
      await raw.send({ messages: [{ topic, partition: 0, key: 'good', value: valid, headers: arrowHeaders }] });
      const sub = await t.subscribe(topic, { group: 'refuse' }, async (b: EventBatch<'flow'>) => {
        seen += b.length;
      });
      await t.publish(topic, good);
      await until(() => seen >= 2 * good.length, 60_000, 'the good events after the bad ones');
      assert.equal(seen, 2 * good.length);
      const g = t.stats().topics[topic]!.groups['refuse']!;
      assert.equal(g.refusedMessages, bad.length);
      assert.equal(t.stats().topics[topic]!.refusedMessages, bad.length);
      const lines = logged.join('').split('\n').filter((l) => l.includes('refused message of'));
      assert.equal(lines.length, bad.length, lines.join('\n'));
      bad.forEach((b, i) => {
        assert.match(lines[i]!, new RegExp(`^warn: kafka: refused message of ${topic} partition 0 offset ${i}: `), b.what);
        assert.match(lines[i]!, b.reason, b.what);
      });
      assert.equal(await t.waitForGroup(topic, 'refuse', 30_000), true, 'refused offsets are committed');
      await sub.close();
    } finally {
      process.stderr.write = write;
      await raw.close();
      await t.close();
    }
  });
});
