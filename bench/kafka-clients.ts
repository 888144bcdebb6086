// Benchmark: raw producer throughput of kafkajs vs @platformatic/kafka on the same broker, same
// pre-serialized flow-event JSON values and keys, batches of 1000, acks=all, no compression (so the
// client, not the codec, is measured). Tells how much headroom a client swap would give
// KafkaTransport.    node dist/bench/kafka-clients.js [--events 200000] [--brokers h:p]
import kafkajs from 'kafkajs';
import { Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import { eventKey } from '../streams/schema.js';
import { flowEvent } from '../test/kafka/events.js';
import { arg, withBroker } from './kafka-broker.js';

const N = Number(arg('events', '200000'));
const BATCH = 1000;

async function createTopic(bootstrap: string, topic: string): Promise<void> {
  const admin = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
}

async function viaKafkajs(bootstrap: string, msgs: { key: string; value: string }[]): Promise<number> {
  const topic = `bench-kafkajs-${Date.now()}`;
  await createTopic(bootstrap, topic);
  const k = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
  const p = k.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await p.connect();
  const t0 = performance.now();
  for (let i = 0; i < msgs.length; i += BATCH) await p.send({ topic, acks: -1, messages: msgs.slice(i, i + BATCH) });
  const rate = msgs.length / ((performance.now() - t0) / 1000);
  await p.disconnect();
  return rate;
}

async function viaPlatformatic(bootstrap: string, msgs: { key: string; value: string }[]): Promise<number> {
  const topic = `bench-platformatic-${Date.now()}`;
  await createTopic(bootstrap, topic);
  const p = new Producer({ clientId: 'bench', bootstrapBrokers: [bootstrap], serializers: stringSerializers, idempotent: true, acks: ProduceAcks.ALL });
  const t0 = performance.now();
  for (let i = 0; i < msgs.length; i += BATCH) {
    await p.send({ messages: msgs.slice(i, i + BATCH).map((m) => ({ topic, key: m.key, value: m.value })) });
  }
  const rate = msgs.length / ((performance.now() - t0) / 1000);
  await p.close();
  return rate;
}

async function main(): Promise<void> {
  const broker = withBroker();
  try {
    const msgs = Array.from({ length: N }, (_, i) => {
      const e = flowEvent(`flow-${i % 5000}`, Math.floor(i / 5000));
      return { key: eventKey(e), value: JSON.stringify(e) };
    });
    console.log(`broker ${broker.bootstrap}; ${N} messages of ~${msgs[0]!.value.length} B; batches of ${BATCH}; acks=all, idempotent, no compression`);
    const a = await viaKafkajs(broker.bootstrap, msgs);
    const b = await viaPlatformatic(broker.bootstrap, msgs);
    console.log(`kafkajs              ${Math.round(a)} msg/s`);
    console.log(`@platformatic/kafka  ${Math.round(b)} msg/s   (${(b / a).toFixed(2)}x kafkajs)`);
  } finally {
    broker.stop();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
