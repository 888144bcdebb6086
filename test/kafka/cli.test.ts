// The CLI over a real broker: two `damselfly sensor --kafka` processes with different
// --observation names publish into the same topics and a consumer sees both, each event labelled;
// `damselfly run --kafka` runs the whole pipeline over Kafka and lands every flow in Parquet.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { KafkaTransport } from '../../streams/kafka/index.js';
import { ParquetSink } from '../../sinks/parquet/index.js';
import { topicFor } from '../../streams/schema.js';
import type { EventBatch } from '../../streams/events/batch.js';
import { generateCapture, type SynthResult } from '../../synth/index.js';
import { CLI, tempDir } from '../helpers.js';
import { exitSafetyNet, sleep, startBroker, uniquePrefix, until, type Broker } from './harness.js';

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--no-node-snapshot', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('damselfly CLI over Kafka', { timeout: 600_000 }, () => {
  let broker: Broker;
  const t = tempDir('damselfly-kafka-cli-');
  let gen: SynthResult;
  before(async () => {
    [broker, gen] = await Promise.all([startBroker(), generateCapture({ out: join(t.dir, 'k.pcap'), packets: 5000, seed: 21 })]);
  });
  after(async () => {
    await broker?.stop();
    t.cleanup();
    exitSafetyNet();
  });

  it('sensor --kafka that sheds events exits 1 and its last line says what was shed', async () => {
    // A 1 MiB producer buffer and no wait: whatever does not fit is shed (counted), never silently.
    const big = await generateCapture({ out: join(t.dir, 'big.pcap'), packets: 60_000, seed: 5, truth: false });
    const cfg = join(t.dir, 'shed.yaml');
    writeFileSync(cfg, 'kafka:\n  max_buffer_mb: 1\n  shed_after_ms: 0\n');
    const r = await cli(['sensor', '-i', big.path, '--kafka', broker.bootstrap, '--topic-prefix', uniquePrefix('shed'), '-c', cfg]);
    assert.equal(r.code, 1, r.stderr);
    const last = r.stderr.trimEnd().split('\n').pop()!;
    assert.match(last, /^damselfly: incomplete \(exit 1\): .*\.flows: [1-9]\d* events not delivered to every consumer \(shed by the producer\)/);
  });

  it('two sensors with different --observation publish into the same topics; a consumer sees both, labelled', async () => {
    const prefix = uniquePrefix('cli');
    const [a, b] = await Promise.all([
      cli(['sensor', '-i', gen.path, '--kafka', broker.bootstrap, '--topic-prefix', prefix, '--observation', 'sensor-a']),
      cli(['sensor', '-i', gen.path, '--kafka', broker.bootstrap, '--topic-prefix', prefix, '--observation', 'sensor-b']),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(a.stdout, '', 'with --kafka and no --format nothing is printed');

    const consumer = new KafkaTransport({ brokers: [broker.bootstrap] });
    const ends = new Map<string, number>();
    const dns = new Map<string, number>();
    try {
      await consumer.subscribe<EventBatch<'flow'>>(topicFor('flow', prefix), { group: 'cli-test' }, async (batch) => {
        for (const e of batch) if (e.kind === 'end') ends.set(e.obname, (ends.get(e.obname) ?? 0) + 1);
      });
      await consumer.subscribe<EventBatch<'dns'>>(topicFor('dns', prefix), { group: 'cli-test' }, async (batch) => {
        for (const e of batch) dns.set(e.obname, (dns.get(e.obname) ?? 0) + 1);
      });
      const want = gen.flows.length;
      await until(() => (ends.get('sensor-a') ?? 0) >= want && (ends.get('sensor-b') ?? 0) >= want, 120_000, 'flow end events of both sensors');
      assert.equal(ends.get('sensor-a'), want);
      assert.equal(ends.get('sensor-b'), want);
      assert.deepEqual([...ends.keys()].sort(), ['sensor-a', 'sensor-b']);
      await until(() => (dns.get('sensor-a') ?? 0) > 0 && (dns.get('sensor-b') ?? 0) > 0, 60_000, 'dns events of both sensors');
    } finally {
      await consumer.close();
    }
  });

  it('broker stopped and restarted while a sensor replays a capture: Parquet has every flow exactly once', async () => {
    const prefix = uniquePrefix('restart');
    const cfg = join(t.dir, 'patient.yaml');
    // Never shed while the broker is away (the default sheds after a bounded wait, counted).
    writeFileSync(cfg, 'kafka:\n  shed_after_ms: 600000\n');
    await broker.halt();
    const sensor = cli(['sensor', '-i', gen.path, '--kafka', broker.bootstrap, '--topic-prefix', prefix, '-c', cfg, '--status-interval', '1']);
    await sleep(3000); // the sensor has read the capture and is retrying its sends
    await broker.restart();
    const r = await sensor;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /unreachable|retrying|send failed/i, 'the outage was noticed and retried');
    assert.doesNotMatch(r.stderr, /shed/);

    const out = join(t.dir, 'restart-flows');
    const sink = new ParquetSink({ dir: out, observation: 'restart' });
    await sink.open();
    const con = new KafkaTransport({ brokers: [broker.bootstrap] });
    const topic = topicFor('flow', prefix);
    try {
      await con.subscribe<EventBatch<'flow'>>(topic, { group: 'sink.parquet' }, (b) => sink.write(b));
      assert.equal(await con.waitForGroup(topic, 'sink.parquet', 120_000), true, 'sink group caught up');
    } finally {
      await con.close();
    }
    const res = await sink.close();
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const rows = (await c.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT flowid)::INTEGER AS ids FROM read_parquet('${out}/*/v*/**/*.parquet')`)).getRowObjectsJson();
    c.closeSync();
    assert.equal(rows[0]!.ids, gen.flows.length, 'zero lost');
    assert.equal(rows[0]!.n, gen.flows.length, 'zero duplicated');
    assert.equal(res.rows, gen.flows.length);
  });

  it('run --kafka lands every flow in Parquet exactly once', async () => {
    const prefix = uniquePrefix('run');
    const out = join(t.dir, 'flows');
    const r = await cli(['run', '-i', gen.path, '--kafka', broker.bootstrap, '--topic-prefix', prefix, '--parquet-dir', out, '--no-builtin-analyzers']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`parquet_rows=${gen.flows.length}\\b`));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const rows = (await c.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT flowid)::INTEGER AS ids FROM read_parquet('${out}/*/v*/**/*.parquet')`)).getRowObjectsJson();
    c.closeSync();
    assert.equal(rows[0]!.n, gen.flows.length);
    assert.equal(rows[0]!.ids, gen.flows.length);
  });
});
