// Benchmark: the two Kafka clients raw, side by side — kafkajs 2.2.4 (the transport's client until
// now) vs @platformatic/kafka 1.35 (its client now) — with the transport's framing: the same flow
// batches (bench/kafka-broker.ts) encoded as Arrow IPC messages per partition (framing.ts
// encodeMessages, 6 partitions), one send in flight carrying every partition's message of a batch
// (the transport's pattern), idempotent, acks=all; consumed by a group with manual commits, every
// message decoded (decodeArrow). Each measurement runs in a fresh process (no shared heap or JIT);
// the clients alternate per round (A B, then B A). Medians and platformatic/kafkajs ratios.
//   node dist/bench/kafka-clients.js [--rounds 3] [--mb 100] [--rows 4096] [--comp none,lz4] [--brokers h:p]
// kafkajs ships no LZ4: the frame codec below (lz4js, independent blocks as Kafka requires) is the
// one the transport registered before it moved to @platformatic/kafka.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { Admin, Consumer, Producer, ProduceAcks, stringDeserializer, stringSerializer } from '@platformatic/kafka';
import { decodeArrow } from '../streams/events/arrow.js';
import { MessageIds, encodeMessages, type OutMessage } from '../streams/kafka/index.js';
import { arg, flowBatches, withBroker } from './kafka-broker.js';

type Client = 'kafkajs' | 'platformatic';
type Comp = 'none' | 'lz4';
const PARTITIONS = 6;

// ------------------------------------------------------------------------ kafkajs LZ4 (lz4js)

const require = createRequire(import.meta.url);
const lz4 = require('lz4js') as {
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  decompress(src: Uint8Array): Uint8Array;
};
const xxh32 = require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, len: number): number };
const BLOCK_MAX = 4 << 20;
const FLG = 0x60; // version 01, independent blocks, no checksums
const BD = 0x70; // 4 MiB blocks
const HC = (xxh32.hash(0, Uint8Array.of(FLG, BD), 0, 2) >>> 8) & 0xff;

function lz4Frame(src: Buffer): Buffer {
  const dst = Buffer.allocUnsafe(src.length + Math.ceil(src.length / 255) + 16 * Math.ceil(src.length / BLOCK_MAX + 1) + 16);
  dst.writeUInt32LE(0x184d2204, 0);
  dst[4] = FLG;
  dst[5] = BD;
  dst[6] = HC;
  let d = 7;
  const block = Buffer.allocUnsafe(Math.min(BLOCK_MAX, src.length) + Math.ceil(Math.min(BLOCK_MAX, src.length) / 255) + 16);
  const table = new Uint32Array(1 << 16);
  for (let s = 0; s < src.length; s += BLOCK_MAX) {
    const len = Math.min(BLOCK_MAX, src.length - s);
    table.fill(0);
    const c = lz4.compressBlock(src, block, s, len, table);
    if (c === 0 || c >= len) {
      dst.writeUInt32LE((0x80000000 | len) >>> 0, d);
      src.copy(dst, d + 4, s, s + len);
      d += 4 + len;
    } else {
      dst.writeUInt32LE(c, d);
      block.copy(dst, d + 4, 0, c);
      d += 4 + c;
    }
  }
  dst.writeUInt32LE(0, d);
  return dst.subarray(0, d + 4);
}

(kafkajs.CompressionCodecs as Record<number, unknown>)[kafkajs.CompressionTypes.LZ4] = () => ({
  compress: async (encoder: { buffer: Buffer }) => lz4Frame(encoder.buffer),
  decompress: async (buffer: Buffer) => {
    const out = lz4.decompress(buffer);
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  },
});
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

// ------------------------------------------------------------------------ worker side

interface Figures {
  /** Messages sent before the clock started (produce). */
  warmup?: number;
  ms: number;
  cpuS: number;
  bytes: number;
  messages: number;
  events: number;
}

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The messages of each batch (one request each), as many rounds of the pool as `mb` needs. */
function requests(rows: number, mb: number): OutMessage[][] {
  const ids = new MessageIds();
  const pool = flowBatches(8, rows).map((b) => encodeMessages(b, PARTITIONS, 'arrow', 900 * 1024, ids));
  const out: OutMessage[][] = [];
  for (let bytes = 0, i = 0; bytes < mb * 1e6; i++) {
    const r = pool[i % pool.length]!;
    out.push(r);
    bytes += r.reduce((a, m) => a + m.value.length, 0);
  }
  return out;
}

async function produce(client: Client, bootstrap: string, topic: string, comp: Comp, mb: number, rows: number): Promise<Figures> {
  const reqs = requests(rows, mb);
  const f: Figures = { ms: 0, cpuS: 0, bytes: 0, messages: 0, events: 0 };
  let send: (msgs: OutMessage[]) => Promise<unknown>;
  let close: () => Promise<unknown>;
  if (client === 'kafkajs') {
    const k = new kafkajs.Kafka({ clientId: 'bench', brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
    const p = k.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
    await p.connect();
    const codec = comp === 'lz4' ? kafkajs.CompressionTypes.LZ4 : kafkajs.CompressionTypes.None;
    send = (msgs) => p.send({ topic, acks: -1, compression: codec, messages: msgs.map((m) => ({ partition: m.partition, key: m.key, value: m.value, headers: m.headers })) });
    close = () => p.disconnect();
  } else {
    const p = new Producer<string, Buffer, string, string>({
      clientId: 'bench', bootstrapBrokers: [bootstrap], idempotent: true, acks: ProduceAcks.ALL, compression: comp,
      serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
    });
    await p.metadata({ topics: [topic] });
    send = (msgs) => p.send({ messages: msgs.map((m) => ({ topic, partition: m.partition, key: m.key, value: m.value, headers: m.headers })) });
    close = () => p.close();
  }
  await send(reqs[0]!); // connections, producer id, metadata: not timed
  f.warmup = reqs[0]!.length;
  const c0 = cpu();
  const t0 = performance.now();
  for (const r of reqs) {
    await send(r);
    f.messages += r.length;
    for (const m of r) {
      f.bytes += m.value.length;
      f.events += m.events;
    }
  }
  f.ms = performance.now() - t0;
  f.cpuS = cpu() - c0;
  await close();
  return f;
}

async function consume(client: Client, bootstrap: string, topic: string, count: number): Promise<Figures> {
  const f: Figures = { ms: 0, cpuS: 0, bytes: 0, messages: 0, events: 0 };
  let t0 = 0;
  let c0 = 0;
  const take = (value: Buffer): void => {
    if (f.messages === 0) {
      t0 = performance.now();
      c0 = cpu();
    }
    f.events += decodeArrow(value, 'flow').length;
    f.bytes += value.length;
    f.messages++;
  };
  const groupId = `bench-${topic}`;
  if (client === 'kafkajs') {
    const k = new kafkajs.Kafka({ clientId: 'bench', brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
    const c = k.consumer({ groupId, maxWaitTimeInMs: 100, maxBytes: 32 << 20, maxBytesPerPartition: 8 << 20, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        for (const m of batch.messages) {
          if (m.value) take(m.value);
          resolveOffset(m.offset);
        }
        await c.commitOffsets([{ topic, partition: batch.partition, offset: String(BigInt(batch.lastOffset()) + 1n) }]);
        if (f.messages >= count) done();
      },
    });
    await all;
    f.ms = performance.now() - t0;
    f.cpuS = cpu() - c0;
    await c.disconnect();
  } else {
    const c = new Consumer<string, Buffer, string, string>({
      clientId: 'bench', groupId, bootstrapBrokers: [bootstrap], autocommit: false, maxWaitTime: 100, maxBytes: 32 << 20,
      maxBytesPerPartition: 8 << 20, sessionTimeout: 10_000, heartbeatInterval: 1000,
      deserializers: { key: stringDeserializer, headerKey: stringDeserializer, headerValue: stringDeserializer },
    });
    const stream = await c.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
    const last = new Map<number, { commit(): unknown }>();
    for await (const m of stream) {
      take(m.value);
      last.set(m.partition, m);
      // Commit per fetched batch, as kafkajs' eachBatch does above.
      if (stream.readableLength === 0 || f.messages >= count) {
        await Promise.all([...last.values()].map((x) => x.commit()));
        last.clear();
      }
      if (f.messages >= count) break;
    }
    f.ms = performance.now() - t0;
    f.cpuS = cpu() - c0;
    await stream.close().catch(() => undefined);
    await c.close(true);
  }
  return f;
}

// ------------------------------------------------------------------------ driver

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function worker(args: string[]): Figures {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--worker', ...args], { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Figures;
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds', '3'));
  const mb = Number(arg('mb', '100'));
  const rows = Number(arg('rows', '4096'));
  const comps = arg('comp', 'none,lz4')!.split(',') as Comp[];
  const broker = withBroker();
  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: [broker.bootstrap] });
  try {
    console.log(`broker ${broker.bootstrap}; ~${mb} MB of Arrow flow messages per run (batches of ${rows} rows, ${PARTITIONS} partitions); idempotent, acks=all; ${rounds} rounds`);
    const rowsOut: { comp: Comp; client: Client; p: Figures; c: Figures }[] = [];
    let seq = 0;
    for (const comp of comps) {
      for (let r = 0; r < rounds; r++) {
        const order: Client[] = r % 2 === 0 ? ['kafkajs', 'platformatic'] : ['platformatic', 'kafkajs'];
        for (const client of order) {
          const topic = `clients-${client}-${comp}-${r}-${seq++}`;
          await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 });
          const p = worker(['produce', client, broker.bootstrap, topic, comp, String(mb), String(rows)]);
          const c = worker(['consume', client, broker.bootstrap, topic, String(p.messages + (p.warmup ?? 0))]);
          rowsOut.push({ comp, client, p, c });
          await admin.deleteTopics({ topics: [topic] });
          console.log(`${comp.padEnd(4)} r${r} ${client.padEnd(12)} produce ${(p.bytes / 1e3 / p.ms).toFixed(1)} MB/s ${Math.round(p.events / p.ms * 1000)} ev/s` +
            ` | consume ${(c.bytes / 1e3 / c.ms).toFixed(1)} MB/s ${Math.round(c.events / c.ms * 1000)} ev/s`);
        }
      }
    }
    console.log('\nMedians (MB/s of uncompressed Arrow values; events/s; CPU seconds per GB)');
    console.log('| compression | phase | kafkajs | @platformatic/kafka | ratio |');
    console.log('|---|---|---|---|---|');
    for (const comp of comps) {
      for (const phase of ['p', 'c'] as const) {
        const sel = (cl: Client): Figures[] => rowsOut.filter((x) => x.comp === comp && x.client === cl).map((x) => x[phase]);
        const mbs = (cl: Client): number => median(sel(cl).map((x) => x.bytes / 1e3 / x.ms));
        const evs = (cl: Client): number => median(sel(cl).map((x) => x.events / x.ms * 1000));
        const cpuPerGb = (cl: Client): number => median(sel(cl).map((x) => x.cpuS / (x.bytes / 1e9)));
        const name = phase === 'p' ? 'produce' : 'consume + decode';
        console.log(`| ${comp} | ${name} | ${mbs('kafkajs').toFixed(1)} MB/s, ${Math.round(evs('kafkajs'))} ev/s, ${cpuPerGb('kafkajs').toFixed(1)} CPU s/GB | ` +
          `${mbs('platformatic').toFixed(1)} MB/s, ${Math.round(evs('platformatic'))} ev/s, ${cpuPerGb('platformatic').toFixed(1)} CPU s/GB | ${(mbs('platformatic') / mbs('kafkajs')).toFixed(2)}x |`);
      }
    }
  } finally {
    await admin.close();
    broker.stop();
  }
}

if (process.argv[2] === '--worker') {
  const [, role, client, bootstrap, topic, a, b, c] = process.argv.slice(2);
  const run = role === 'produce'
    ? produce(client as Client, bootstrap!, topic!, a as Comp, Number(b), Number(c))
    : consume(client as Client, bootstrap!, topic!, Number(a));
  run.then((f) => {
    console.log(JSON.stringify(f));
    process.exit(0);
  }, (e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().then(() => process.exit(0), (e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
