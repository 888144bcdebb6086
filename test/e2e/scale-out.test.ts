// The pipeline scaled out over a real Kafka broker: `damselfly sensor`, two `damselfly analyze`
// workers, `damselfly sink parquet` and `damselfly sink alerts` as five separate processes on a
// generated capture. The stages are started with --until-end and the run must end by itself; what
// lands in Parquet and in the alerts file must equal the one-process `damselfly run` on the same
// capture (same flows, same alerts), and rows keep the observation of the sensor that wrote them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateCapture, type SynthResult } from '../../synth/index.js';
import { CLI, runCli, tempDir } from '../helpers.js';
import { exitSafetyNet, startBroker, uniquePrefix, type Broker } from '../kafka/harness.js';

interface Proc {
  name: string;
  /** Resolves when the stage logs that it consumes its topics. */
  consuming: Promise<void>;
  exited: Promise<{ code: number | null; stderr: string }>;
  kill(): void;
}

function start(name: string, args: string[]): Proc {
  const p = spawn(process.execPath, ['--no-node-snapshot', CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let up!: () => void;
  const consuming = new Promise<void>((r) => (up = r));
  p.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (/consuming .* started/.test(stderr)) up();
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => p.on('close', (code) => resolve({ code, stderr })));
  return { name, consuming, exited, kill: () => p.kill('SIGKILL') };
}

/** Every flow as text without its per-run identity (flow ids are random UUIDs per run). */
async function flows(dir: string): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const rows = (await c.runAndReadAll(`SELECT * EXCLUDE (flowid) FROM read_parquet('${dir}/*/v*/**/*.parquet') ORDER BY ALL`)).getRowObjectsJson();
  c.closeSync();
  return rows.map((r) => JSON.stringify(r));
}

/** Every alert without what differs between runs (its id, the flow id). */
function alerts(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const { id: _id, flowid: _f, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(rest, Object.keys(rest).sort());
    })
    .sort();
}

describe('scale-out over Kafka: sensor, two analyze workers, sink parquet and sink alerts as processes', { timeout: 600_000 }, () => {
  let broker: Broker;
  let gen: SynthResult;
  const t = tempDir('damselfly-scale-');
  before(async () => {
    [broker, gen] = await Promise.all([startBroker(), generateCapture({ out: join(t.dir, 'cap.pcap'), packets: 30_000, seed: 8, truth: false })]);
  });
  after(async () => {
    await broker?.stop();
    t.cleanup();
    exitSafetyNet();
  });

  it('ends by itself with the same flows and alerts as the one-process run', async () => {
    // No suppression window: which of two alerts with one key is kept would depend on arrival order.
    const cfg = join(t.dir, 'cfg.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(cfg, 'alerts:\n  suppress_seconds: 0\n');

    const ref = runCli(['run', '-i', gen.path, '--parquet-dir', join(t.dir, 'ref'), '--alerts', join(t.dir, 'ref.jsonl'), '--observation', 'edge-7', '-c', cfg, '-q'], { timeoutMs: 300_000 });
    assert.equal(ref.status, 0, ref.stderr);

    const prefix = uniquePrefix('scale');
    const k = ['--kafka', broker.bootstrap, '--topic-prefix', prefix];
    const stages = [
      start('analyze-1', ['analyze', ...k, '--until-end', '-c', cfg]),
      start('analyze-2', ['analyze', ...k, '--until-end', '-c', cfg]),
      start('sink-parquet', ['sink', 'parquet', ...k, '--parquet-dir', join(t.dir, 'out'), '--until-end', '-c', cfg]),
      start('sink-alerts', ['sink', 'alerts', ...k, '--alerts', join(t.dir, 'out.jsonl'), '--until-end', '-c', cfg]),
    ];
    try {
      // The stages are up before the sensor publishes (an --until-end stage follows the producers
      // that were running when it started or began later).
      const up = Promise.all(stages.map((s) => s.consuming));
      const early = Promise.race(stages.map((s) => s.exited.then((r) => assert.fail(`${s.name} exited early: ${r.stderr}`))));
      await Promise.race([up, early]);
      const sensor = runCli(['sensor', '-i', gen.path, ...k, '--observation', 'edge-7'], { timeoutMs: 300_000 });
      assert.equal(sensor.status, 0, sensor.stderr);
      const deadline = Date.now() + 240_000;
      for (const s of stages) {
        const r = await Promise.race([s.exited, new Promise<null>((res) => setTimeout(() => res(null), Math.max(1, deadline - Date.now())))]);
        assert.ok(r, `${s.name} did not end by itself`);
        assert.equal(r.code, 0, `${s.name}: ${r.stderr}`);
      }
    } finally {
      for (const s of stages) s.kill();
    }

    const want = await flows(join(t.dir, 'ref'));
    const got = await flows(join(t.dir, 'out'));
    assert.equal(want.length, gen.flows.length);
    assert.equal(got.length, want.length, 'every flow once');
    assert.deepEqual(got, want, 'the same flow records');
    const { readdirSync } = await import('node:fs');
    assert.deepEqual(readdirSync(join(t.dir, 'out')), ['edge-7'], "filed under the sensor's observation");
    const wantAlerts = alerts(join(t.dir, 'ref.jsonl'));
    assert.ok(wantAlerts.length > 0, 'the capture raises alerts (DGA host)');
    assert.deepEqual(alerts(join(t.dir, 'out.jsonl')), wantAlerts, 'the same alerts');
  });
});
