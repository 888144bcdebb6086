// Benchmark: our Kafka transport end to end on one broker, with Arrow and with JSON framing.
//   node dist/bench/kafka-transport.js [--events 400000] [--json-events 100000] [--batch 4096] [--rate 100000]
//        [--json-rate 10000] [--seconds 10] [--brokers h:p] [--throughput no] [--java no] [--latency no]
// Throughput: realistic flow batches (bench/kafka-broker.ts flowBatches) published through
// KafkaTransport.publish (encoding included), flushed; then consumed by one subscription (decoding
// included) — events/s, MB/s of message values, and the process CPU per phase. For scale, Kafka's own
// ProducerPerformance / ConsumerPerformance (kafka-producer-perf-test / kafka-consumer-perf-test, the
// same jars as the broker) on the same broker with records of our average Arrow message size and of
// our average JSON message size. Latency: publisher and consumer in one process at a fixed rate
// (batches every 10 ms stamped with the wall clock), p50/p99 from publish to handler.
// 6 partitions, acks=all, lz4, idempotent producer (the transport's defaults).
import { execFileSync } from 'node:child_process';
import { EventBatch } from '../streams/events/batch.js';
import { topicFor } from '../streams/events/table.js';
import { KafkaTransport, type KafkaFormat } from '../streams/kafka/index.js';
import { arg, flowBatches, kafkaClasspath, withBroker } from './kafka-broker.js';

const N = Number(arg('events', '400000'));
const N_JSON = Number(arg('json-events', '100000'));
const BATCH = Number(arg('batch', '4096'));
const RATE = Number(arg('rate', '100000'));
const JSON_RATE = Number(arg('json-rate', '10000'));
const SECONDS = Number(arg('seconds', '10'));
const PARTITIONS = 6;

interface Run {
  events: number;
  bytes: number;
  messages: number;
  produceEvS: number;
  consumeEvS: number;
  produceCpuS: number;
  consumeCpuS: number;
  produceS: number;
  consumeS: number;
}

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function ours(bootstrap: string, format: KafkaFormat, events: number, pool: EventBatch<'flow'>[]): Promise<Run> {
  const topic = topicFor('flow', `bench-${format}-${Date.now()}`);
  const t = new KafkaTransport({ brokers: [bootstrap], partitions: PARTITIONS, format, maxBatch: 65536 });
  try {
    await t.ensureTopic(topic);
    let c0 = cpu();
    let t0 = performance.now();
    for (let sent = 0, i = 0; sent < events; i++) {
      const b = pool[i % pool.length]!;
      const n = Math.min(b.length, events - sent);
      await t.publish(topic, n === b.length ? b : b.slice(0, n));
      sent += n;
    }
    if (!(await t.flush(600_000))) throw new Error('flush timed out');
    const produceS = (performance.now() - t0) / 1000;
    const produceCpuS = cpu() - c0;
    let n = 0;
    let bytes = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    // Timed from the group join (subscribe resolves once joined), as ConsumerPerformance's fetch
    // time excludes the join.
    const sub = await t.subscribe(topic, { group: 'bench' }, async (b: EventBatch<'flow'>) => {
      n += b.length;
      if (n >= events) done();
    });
    c0 = cpu();
    t0 = performance.now();
    await all;
    const consumeS = (performance.now() - t0) / 1000;
    const consumeCpuS = cpu() - c0;
    await sub.close();
    const { ends, sizes } = await topicBytes(bootstrap, topic);
    bytes = sizes;
    return { events, bytes, messages: ends, produceEvS: events / produceS, consumeEvS: events / consumeS, produceCpuS, consumeCpuS, produceS, consumeS };
  } finally {
    await t.close();
  }
}

/** Messages on `topic` and the bytes of their values (read back with a plain consumer). */
async function topicBytes(bootstrap: string, topic: string): Promise<{ ends: number; sizes: number }> {
  const { Admin, Consumer } = await import('@platformatic/kafka');
  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: [bootstrap] });
  const lo = await admin.listOffsets({ topics: [{ name: topic, partitions: Array.from({ length: PARTITIONS }, (_, i) => ({ partitionIndex: i, timestamp: -1n })) }] });
  await admin.close();
  const ends = lo[0]!.partitions.reduce((a, p) => a + Number(p.offset), 0);
  const c = new Consumer({ clientId: 'bench', groupId: `size-${topic}`, bootstrapBrokers: [bootstrap], autocommit: false, maxWaitTime: 100, maxBytes: 32 << 20 });
  const stream = await c.consume({ topics: [topic], mode: 'earliest' });
  let n = 0;
  let sizes = 0;
  for await (const m of stream) {
    sizes += m.value?.length ?? 0;
    if (++n >= ends) break;
  }
  await stream.close().catch(() => undefined);
  await c.close(true);
  return { ends, sizes };
}

function javaTools(bootstrap: string, recordSize: number, n: number): { produceRecS: number; produceMBs: number; consumeRecS: number; consumeMBs: number } {
  const cp = kafkaClasspath();
  const topic = `bench-java-${recordSize}-${Date.now()}`;
  const java = ['-Xmx768m', '-cp', cp];
  execFileSync('java', [...java, 'org.apache.kafka.tools.TopicCommand', '--bootstrap-server', bootstrap, '--create', '--topic', topic,
    '--partitions', String(PARTITIONS), '--replication-factor', '1'], { stdio: 'ignore' });
  const p = execFileSync('java', [...java, 'org.apache.kafka.tools.ProducerPerformance', '--topic', topic, '--num-records', String(n),
    '--record-size', String(recordSize), '--throughput', '-1', '--producer-props', `bootstrap.servers=${bootstrap}`, 'acks=all',
    'compression.type=lz4', 'enable.idempotence=true', 'linger.ms=5', `max.request.size=${Math.max(1 << 20, recordSize + 4096)}`], { encoding: 'utf8' });
  const pm = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/.exec(p.trim().split('\n').pop()!);
  const c = execFileSync('java', [...java, 'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', bootstrap, '--topic', topic,
    '--messages', String(n), '--group', `bench-java-${recordSize}`, '--hide-header'], { encoding: 'utf8' });
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, ...
  const cols = c.trim().split('\n').pop()!.split(',').map((s) => s.trim());
  const mb = Number(cols[2]);
  const msgs = Number(cols[4]);
  const fetchS = Number(cols[7]) / 1000;
  return {
    produceRecS: Number(pm?.[2]),
    produceMBs: Number(pm?.[3]),
    consumeRecS: fetchS > 0 ? msgs / fetchS : Number(cols[5]),
    consumeMBs: fetchS > 0 ? mb / fetchS : Number(cols[3]),
  };
}

async function latency(bootstrap: string, format: KafkaFormat, rate: number, template: EventBatch<'flow'>): Promise<{ p50: number; p99: number; count: number; shed: number }> {
  const topic = topicFor('flow', `bench-lat-${format}-${Date.now()}`);
  const pub = new KafkaTransport({ brokers: [bootstrap], partitions: PARTITIONS, format });
  const sub = new KafkaTransport({ brokers: [bootstrap], startFrom: 'latest' });
  await pub.ensureTopic(topic);
  const lat: number[] = [];
  await sub.subscribe(topic, { group: 'lat', maxBatch: 65536 }, async (b: EventBatch<'flow'>) => {
    const now = Date.now() * 1000;
    const ts = b.cols.ts as Float64Array;
    for (let i = 0; i < b.length; i++) lat.push((now - ts[i]!) / 1000);
  });
  await new Promise((r) => setTimeout(r, 2000)); // group settled
  const total = rate * SECONDS;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.round(((performance.now() - start) / 1000) * rate));
    const n = Math.min(due - sent, template.length);
    if (n > 0) {
      // The template's rows with a fresh ts column: "packet time" = now, as a live sensor stamps them.
      const at = sent % (template.length - n + 1);
      const rows = template.slice(at, at + n);
      const ts = new Float64Array(n).fill(Date.now() * 1000);
      await pub.publish(topic, new EventBatch('flow', n, { ...rows.cols, ts }, rows.valid));
      sent += n;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await pub.flush();
  const deadline = Date.now() + 60_000;
  while (lat.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const shed = pub.stats().topics[topic]!.shed;
  await pub.close();
  await sub.close();
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { p50: q(0.5), p99: q(0.99), count: lat.length, shed };
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  const broker = withBroker();
  try {
    const pool = flowBatches(16, BATCH);
    console.log(`broker ${broker.bootstrap}; flow batches of ${BATCH} varied records; ${PARTITIONS} partitions; acks=all, lz4, idempotent; node ${process.version}`);
    if (arg('throughput', 'yes') !== 'no') {
      const runs: Record<KafkaFormat, Run> = { arrow: await ours(broker.bootstrap, 'arrow', N, pool), json: await ours(broker.bootstrap, 'json', N_JSON, pool) };
      for (const [f, r] of Object.entries(runs)) {
        console.log(`${f.padEnd(5)} ${fmt(r.events)} events in ${fmt(r.messages)} messages of ${fmt(r.bytes / r.messages)} B (${(r.bytes / r.events).toFixed(0)} B/event)`);
        console.log(`      produce ${fmt(r.produceEvS)} ev/s  ${(r.bytes / 1e6 / r.produceS).toFixed(1)} MB/s  CPU ${(r.produceCpuS / r.produceS * 100).toFixed(0)}% of a core` +
          `   consume ${fmt(r.consumeEvS)} ev/s  ${(r.bytes / 1e6 / r.consumeS).toFixed(1)} MB/s  CPU ${(r.consumeCpuS / r.consumeS * 100).toFixed(0)}% of a core`);
      }
      const a = runs.arrow;
      const j = runs.json;
      console.log(`ratio arrow/json  produce ${(a.produceEvS / j.produceEvS).toFixed(1)}x   consume ${(a.consumeEvS / j.consumeEvS).toFixed(1)}x  (events/s)`);
      if (arg('java', 'yes') !== 'no') {
        for (const [f, r] of Object.entries(runs)) {
          const size = Math.round(r.bytes / r.messages);
          const jt = javaTools(broker.bootstrap, size, f === 'arrow' ? Math.max(r.messages, 200) : r.messages);
          console.log(`Java perf tools, ${fmt(size)} B records: produce ${fmt(jt.produceRecS)} rec/s ${jt.produceMBs.toFixed(1)} MB/s   consume ${fmt(jt.consumeRecS)} rec/s ${jt.consumeMBs.toFixed(1)} MB/s`);
          console.log(`  ours (${f}) / Java, MB/s of values: produce ${((r.bytes / 1e6 / r.produceS) / jt.produceMBs).toFixed(2)}x   consume ${((r.bytes / 1e6 / r.consumeS) / jt.consumeMBs).toFixed(2)}x`);
        }
      }
    }
    if (arg('latency', 'yes') !== 'no') {
      const template = EventBatch.fromRows('flow', pool.flatMap((b) => b.rows()).slice(0, Math.max(RATE, JSON_RATE) / 10));
      for (const [f, rate] of [['arrow', RATE], ['json', JSON_RATE]] as const) {
        const l = await latency(broker.bootstrap, f, rate, template);
        console.log(`latency ${f} at ${fmt(rate)} ev/s for ${SECONDS} s: p50 ${l.p50.toFixed(1)} ms  p99 ${l.p99.toFixed(1)} ms  (${fmt(l.count)} events, shed ${l.shed})`);
      }
    }
  } finally {
    broker.stop();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
