// Benchmark: flow events/s produced and consumed through KafkaTransport vs Kafka's own
// kafka-producer-perf-test / kafka-consumer-perf-test (org.apache.kafka.tools.ProducerPerformance /
// ConsumerPerformance from the same jars) on the same broker, same record size, acks=all, lz4;
// then end-to-end latency p50/p99 (event ts → handler) at a steady publish rate.
//   node dist/bench/kafka-transport.js [--events 200000] [--rate 50000] [--seconds 10] [--brokers h:p]
//        [--throughput no] [--latency no]
import { execFileSync } from 'node:child_process';
import { KafkaTransport } from '../streams/kafka/index.js';
import { topicFor, type FlowEvent } from '../streams/schema.js';
import { flowEvent } from '../test/kafka/events.js';
import { arg, kafkaClasspath, withBroker } from './kafka-broker.js';

const N = Number(arg('events', '200000'));
const RATE = Number(arg('rate', '50000'));
const SECONDS = Number(arg('seconds', '10'));
const PARTITIONS = 6;

function events(n: number): FlowEvent[] {
  const out: FlowEvent[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = flowEvent(`flow-${i % 5000}`, Math.floor(i / 5000));
  return out;
}

async function ours(bootstrap: string, evs: FlowEvent[]): Promise<{ produce: number; consume: number }> {
  const topic = topicFor('flow', `bench-ours-${Date.now()}`);
  const t = new KafkaTransport({ brokers: [bootstrap], partitions: PARTITIONS, sendBatchEvents: 5000, maxBatch: 5000 });
  await t.ensureTopic(topic);
  let t0 = performance.now();
  for (let i = 0; i < evs.length; i += 1000) await t.publish(topic, evs.slice(i, i + 1000));
  await t.flush();
  const produce = evs.length / ((performance.now() - t0) / 1000);
  let n = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  // Timed from the group join (subscribe resolves once the consumer joined), or the first batch
  // if it came earlier, as ConsumerPerformance's fetch time excludes the group join.
  let first = Infinity;
  await t.subscribe<FlowEvent>(topic, { group: 'bench' }, async (b) => {
    if (n === 0) first = performance.now();
    n += b.length;
    if (n >= evs.length) done();
  });
  t0 = Math.min(performance.now(), first);
  await all;
  const consume = evs.length / ((performance.now() - t0) / 1000);
  await t.close();
  return { produce, consume };
}

function javaTools(bootstrap: string, recordSize: number, n: number): { produce: number; consume: number } {
  const cp = kafkaClasspath();
  const topic = `bench-java-${Date.now()}`;
  const java = ['-Xmx512m', '-cp', cp];
  execFileSync('java', [...java, 'org.apache.kafka.tools.TopicCommand', '--bootstrap-server', bootstrap, '--create', '--topic', topic,
    '--partitions', String(PARTITIONS), '--replication-factor', '1'], { stdio: 'ignore' });
  const p = execFileSync('java', [...java, 'org.apache.kafka.tools.ProducerPerformance', '--topic', topic, '--num-records', String(n),
    '--record-size', String(recordSize), '--throughput', '-1', '--producer-props', `bootstrap.servers=${bootstrap}`, 'acks=all',
    'compression.type=lz4', 'enable.idempotence=true', 'linger.ms=5'], { encoding: 'utf8' });
  const pm = /(\d+) records sent, ([\d.]+) records\/sec/.exec(p.trim().split('\n').pop()!);
  const c = execFileSync('java', [...java, 'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', bootstrap, '--topic', topic,
    '--messages', String(n), '--group', 'bench-java', '--hide-header'], { encoding: 'utf8' });
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, ...
  const cols = c.trim().split('\n').pop()!.split(',').map((s) => s.trim());
  const msgs = Number(cols[4]);
  const fetchMs = Number(cols[7]);
  return { produce: Number(pm?.[2]), consume: fetchMs > 0 ? msgs / (fetchMs / 1000) : Number(cols[5]) };
}

async function latency(bootstrap: string): Promise<{ p50: number; p99: number; count: number; shed: number }> {
  const topic = topicFor('flow', `bench-lat-${Date.now()}`);
  const pub = new KafkaTransport({ brokers: [bootstrap], partitions: PARTITIONS });
  const sub = new KafkaTransport({ brokers: [bootstrap], startFrom: 'latest' });
  await pub.ensureTopic(topic);
  const lat: number[] = [];
  await sub.subscribe<FlowEvent>(topic, { group: 'lat' }, async (b) => {
    const now = Date.now() * 1000;
    for (const e of b) lat.push((now - e.ts) / 1000);
  });
  await new Promise((r) => setTimeout(r, 3000)); // group joined
  const tickMs = 10;
  const total = RATE * SECONDS;
  const start = performance.now();
  let sent = 0;
  let seq = 0;
  while (sent < total) {
    const due = Math.min(total, Math.round(((performance.now() - start) / 1000) * RATE));
    if (due > sent) {
      const batch: FlowEvent[] = [];
      const ts = Date.now() * 1000; // "packet time" = now: the sensor publishes as it meters
      for (let i = sent; i < due; i++) {
        const e = flowEvent(`flow-${i % 5000}`, seq);
        e.ts = ts;
        batch.push(e);
      }
      seq++;
      sent = due;
      await pub.publish(topic, batch);
    }
    await new Promise((r) => setTimeout(r, Math.max(1, tickMs - 1)));
  }
  await pub.flush();
  const deadline = Date.now() + 30_000;
  while (lat.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const shed = pub.stats().topics[topic]!.shed;
  await pub.close();
  await sub.close();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { p50: q(0.5), p99: q(0.99), count: lat.length, shed };
}

async function main(): Promise<void> {
  const broker = withBroker();
  try {
    const evs = events(N);
    const size = Math.round(evs.slice(0, 1000).reduce((s, e) => s + JSON.stringify(e).length, 0) / 1000);
    console.log(`broker ${broker.bootstrap}; ${N} flow events of ~${size} B JSON; ${PARTITIONS} partitions; acks=all, lz4, idempotent`);
    if (arg('throughput', 'yes') !== 'no') {
      const o = await ours(broker.bootstrap, evs);
      console.log(`KafkaTransport   produce ${Math.round(o.produce)} ev/s   consume ${Math.round(o.consume)} ev/s`);
      const j = javaTools(broker.bootstrap, size, N);
      console.log(`Java perf tools  produce ${Math.round(j.produce)} rec/s  consume ${Math.round(j.consume)} rec/s`);
      console.log(`ratio (ours / Java)  produce ${(o.produce / j.produce).toFixed(2)}x   consume ${(o.consume / j.consume).toFixed(2)}x`);
    }
    if (arg('latency', 'yes') !== 'no') {
      const l = await latency(broker.bootstrap);
      console.log(`latency at ${RATE} ev/s for ${SECONDS} s: p50 ${l.p50.toFixed(1)} ms  p99 ${l.p99.toFixed(1)} ms  (${l.count} events, shed ${l.shed})`);
    }
  } finally {
    broker.stop();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
