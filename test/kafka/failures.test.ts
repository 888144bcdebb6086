// Failure behaviour against a real broker: a consumer worker killed mid-batch, the broker
// restarted mid-stream (Parquet keeps every (flowid, seq) exactly once: one end row per flow), the broker down at start.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { EventBatch } from '../../streams/events/batch.js';
import { KafkaTransport } from '../../streams/kafka/index.js';
import { topicFor } from '../../streams/schema.js';
import { ParquetSink } from '../../sinks/parquet/index.js';
import { exitSafetyNet, freePort, sleep, startBroker, uniquePrefix, until, type Broker } from './harness.js';
import { flowBatch } from './events.js';
import { ROOT } from '../helpers.js';

const WORKERS = join(ROOT, 'dist', 'test', 'kafka', 'workers.js');

function worker(args: string[]): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [WORKERS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

/** Complete `flowid seq` lines (a line torn by SIGKILL is ignored: its batch was not committed). */
function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => /^flow-\S+ \d+$/.test(l)) : [];
}

describe('kafka transport failures (real broker)', { timeout: 700_000 }, () => {
  let broker: Broker;
  const tmp = mkdtempSync(join(tmpdir(), 'damselfly-kafka-fail-'));
  const children: ChildProcess[] = [];
  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await broker?.stop();
    rmSync(tmp, { recursive: true, force: true });
    exitSafetyNet();
  });

  it('consumer killed mid-batch: the replacement resumes from committed offsets, nothing lost', async () => {
    const topic = topicFor('flow', uniquePrefix('crash'));
    const pub = new KafkaTransport({ brokers: [broker.bootstrap], partitions: 4 });
    const events = flowBatch(100, 20); // 2000 events
    try {
      // As a sensor publishes: batches of 200 (each partition's share is one Arrow message).
      for (let i = 0; i < events.length; i += 200) await pub.publish(topic, events.slice(i, i + 200));
      assert.equal(await pub.flush(60_000), true);
    } finally {
      await pub.close();
    }
    const out1 = join(tmp, 'w1.txt');
    const out2 = join(tmp, 'w2.txt');
    const w1 = worker(['consume', broker.bootstrap, topic, 'crash', out1, '40']);
    children.push(w1.child);
    await until(() => lines(out1).length >= 400, 60_000, 'worker 1 processed some batches');
    w1.child.kill('SIGKILL'); // mid-stream, most likely inside a batch's 40 ms "processing"
    await w1.exited;
    const done1 = lines(out1).length;
    assert.ok(done1 < events.length, `worker 1 was killed before the end (${done1})`);

    const w2 = worker(['consume', broker.bootstrap, topic, 'crash', out2, '0']);
    children.push(w2.child);
    const all = () => new Set([...lines(out1), ...lines(out2)]);
    await until(() => all().size === events.length, 90_000, 'every event processed by worker 1 or 2');
    w2.child.kill('SIGTERM');
    await w2.exited;
    const second = lines(out2);
    // Resumed from committed offsets: worker 2 did not start over. At most the message in flight
    // (committed after its last slice; one partition's share of a 200-event publish) comes twice.
    assert.ok(second.length < events.length, `worker 2 processed ${second.length}, not everything again`);
    const firstSet = new Set(lines(out1));
    const redelivered = second.filter((l) => firstSet.has(l)).length;
    assert.ok(redelivered <= 200, `redelivered ${redelivered} <= 200`);
    assert.equal(all().size, events.length, 'nothing lost');
  });

  it('broker restarted mid-stream: Parquet has every (flowid, seq) exactly once', async () => {
    const topic = topicFor('flow', uniquePrefix('restart'));
    const dir = join(tmp, 'parquet');
    const sink = new ParquetSink({ dir, observation: 'restart-test', batchSize: 100_000 });
    await sink.open();
    const pub = new KafkaTransport({
      brokers: [broker.bootstrap], partitions: 3, sendBatchEvents: 200, shedAfterMs: Infinity,
      backoff: { initialDelayMs: 100, maxDelayMs: 1000 },
    });
    const con = new KafkaTransport({ brokers: [broker.bootstrap], backoff: { initialDelayMs: 100, maxDelayMs: 1000 } });
    const events = flowBatch(3000, 2, 'restart', true); // 6000 events, 3000 flow ends = Parquet rows
    let ends = 0;
    for (const e of events) if (e.kind === 'end') ends++;
    try {
      await con.subscribe(topic, { group: 'sink.parquet', maxBatch: 200 }, (b: EventBatch<'flow'>) => sink.write(b));
      const chunks = 30;
      const per = events.length / chunks;
      for (let i = 0; i < chunks; i++) {
        await pub.publish(topic, events.slice(i * per, (i + 1) * per));
        if (i === 10) await broker.halt(); // the sensor keeps publishing while the broker is down
        if (i === 20) await broker.restart();
        await sleep(50);
      }
      assert.equal(await pub.flush(120_000), true, 'every event acked after the restart');
      const ps = pub.stats().topics[topic]!;
      assert.equal(ps.shed, 0);
      assert.equal(ps.sent, events.length);
      assert.ok(ps.sendErrors > 0, 'sends failed while the broker was down');
      assert.equal(await con.waitForGroup(topic, 'sink.parquet', 120_000), true, 'sink group caught up');
    } finally {
      await pub.close();
      await con.close();
    }
    const res = await sink.close();
    assert.ok(res.files.length >= 1);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const r = await db.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT flowid)::INTEGER AS d FROM read_parquet('${dir}/*/v*/**/*.parquet', hive_partitioning=false)`,
    );
    const row = r.getRowObjects()[0] as { n: number; d: number };
    assert.equal(ends, 3000);
    assert.equal(row.d, ends, 'zero lost');
    assert.equal(row.n, ends, 'zero duplicated');
    assert.equal(res.rows, ends);
  });

  it('broker down at start: one clear error line, retries, publishes once the broker appears', async () => {
    const port = freePort();
    const topic = topicFor('flow', uniquePrefix('late'));
    const w = worker(['publish', `127.0.0.1:${port}`, topic, '500']);
    children.push(w.child);
    await until(() => w.err().includes('unreachable'), 30_000, 'the unreachable-broker error line');
    const first = w.err().split('\n')[0]!;
    assert.match(first, /^error: kafka: brokers 127\.0\.0\.1:\d+ unreachable \(.+\); retrying in \d+\.\d s attempt=1$/);
    await sleep(1500);
    assert.equal(w.child.exitCode, null, 'still retrying, not exited');
    const late = await startBroker({ port });
    try {
      const code = await w.exited;
      assert.equal(code, 0, w.err());
      assert.match(w.out(), /published=500 sent=500 shed=0/);
      assert.match(w.err(), /connected/);
      const con = new KafkaTransport({ brokers: [late.bootstrap] });
      let n = 0;
      try {
        await con.subscribe(topic, { group: 'check' }, async (b) => {
          n += b.length;
        });
        await until(() => n >= 500, 60_000, 'the 500 late events');
        assert.equal(n, 500);
      } finally {
        await con.close();
      }
    } finally {
      await late.stop();
    }
  });

  it('broker unreachable: the producer buffer stays within its bound and sheds, counted and logged', async () => {
    const topic = topicFor('flow', uniquePrefix('shed'));
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    const t = new KafkaTransport({
      brokers: [`127.0.0.1:${freePort()}`], maxBufferBytes: 200_000, shedAfterMs: 200, closeTimeoutMs: 500,
      backoff: { initialDelayMs: 100, maxDelayMs: 200 },
    });
    try {
      // 20 publishes of 100 flows, ~47 KB each as estimated before the topic is reached: ~5x the bound.
      const events = flowBatch(100, 20);
      for (let i = 0; i < events.length; i += 100) await t.publish(topic, events.slice(i, i + 100));
      const s = t.stats();
      const ts = s.topics[topic]!;
      assert.ok(s.bufferedBytes <= 200_000, `buffer ${s.bufferedBytes} within its bound`);
      assert.ok(ts.shed > 0, 'events were shed');
      assert.equal(ts.published + ts.shed, events.length, 'every event either buffered or counted as shed');
      assert.equal(ts.sent, 0);
      assert.ok(ts.blockedPublishes > 0);
      assert.ok(logged.some((l) => /producer buffer full .* shedding events/.test(l)), 'shedding is logged');
    } finally {
      process.stderr.write = write;
      await t.close();
    }
    const after = t.stats().topics[topic]!;
    assert.equal(after.queued, 0, 'close counted what it could not send');
  });
});
