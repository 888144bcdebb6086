// The lake's event datasets (sinks/parquet/dataset.ts): beside the flows, `run` writes dns, tls,
// http and alerts datasets, one row per event, with the event's values (nested ones as JSON), each
// joining its flow by flowid; `--parquet-datasets` picks them; an unknown one is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateCapture } from '../../synth/index.js';
import { runCli, tempDir, duckQuery } from '../helpers.js';

const query = duckQuery;

describe('lake datasets: dns, tls, http, alerts', { timeout: 300_000 }, () => {
  const t = tempDir();
  const pcap = join(t.dir, 'mix.pcap');
  const out = join(t.dir, 'lake');
  let events: Record<string, unknown>[] = [];
  before(async () => {
    await generateCapture({ out: pcap, packets: 30_000, seed: 21, truth: false });
    const s = runCli(['sensor', '-i', pcap, '--format', 'jsonl', '-q']);
    assert.equal(s.status, 0, s.stderr);
    events = s.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const r = runCli(['run', '-i', pcap, '--parquet-dir', out]);
    assert.ok(r.status === 0 || r.status === 1, r.stderr); // 1: an analyzer may report a problem; the data is what is checked
  });
  after(() => t.cleanup());

  for (const [dataset, type, cols] of [
    ['dns', 'dns', ['query', 'qtype', 'rcode']],
    ['tls', 'tls', ['sni', 'ja3', 'ja4', 'tls_version']],
    ['http', 'http', ['method', 'host', 'uri', 'status']],
  ] as const) {
    it(`${dataset}: one row per ${type} event with its values, each joining its flow`, async () => {
      const want = events.filter((e) => e.type === type);
      assert.ok(want.length > 0, `the capture has ${type} events`);
      const glob = `${out}/*/${dataset}/**/*.parquet`;
      const rows = await query(`SELECT flowid, epoch_us(ts)::BIGINT AS ts, ${cols.join(', ')}${type === 'dns' ? ', answers' : ''} FROM read_parquet('${glob}') ORDER BY ts, flowid, ${cols[0]}`);
      assert.equal(rows.length, want.length);
      const key = (o: Record<string, unknown>): string => JSON.stringify([o.flowid, Number(o.ts), ...cols.map((c) => o[c])]);
      assert.deepEqual(rows.map(key).sort(), want.map(key).sort());
      if (type === 'dns') {
        const byKey = new Map(want.map((e) => [key(e), JSON.stringify(e.answers)]));
        for (const r of rows) assert.equal(r.answers, byKey.get(key(r)), 'answers as JSON');
      }
      const [j] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${glob}') d WHERE NOT EXISTS (SELECT 1 FROM read_parquet('${out}/*/v1/**/*.parquet') f WHERE f.flowid = d.flowid)`);
      assert.equal(j!.n, 0, 'every event joins its flow by flowid');
      const kv = await query(`SELECT decode(value) AS v FROM parquet_kv_metadata('${glob}') WHERE decode(key) = 'damselfly.dataset'`);
      assert.ok(kv.length > 0 && kv.every((r) => r.v === dataset));
    });
  }

  it('alerts: one row per alert, as in alerts.jsonl', async () => {
    const file = join(out, 'alerts.jsonl');
    const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter((l) => l !== '') : [];
    assert.ok(lines.length > 0, 'the generated capture raises alerts (DGA host, feed hits)');
    const want = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const rows = await query(`SELECT id, analyzer, score, severity, factors FROM read_parquet('${out}/*/alerts/**/*.parquet')`);
    assert.equal(rows.length, want.length);
    const byId = new Map(want.map((a) => [a.id, a]));
    for (const r of rows) {
      const a = byId.get(r.id)!;
      assert.ok(a, `alert ${String(r.id)} is in alerts.jsonl`);
      assert.deepEqual([r.analyzer, r.score, r.severity, JSON.parse(String(r.factors))], [a.analyzer, a.score, a.severity, a.factors]);
    }
  });

  it('--parquet-datasets picks the datasets; an unknown one is refused with exit 2', () => {
    const only = join(t.dir, 'flows-only');
    const r = runCli(['run', '-i', pcap, '--parquet-dir', only, '--parquet-datasets', 'flows', '--no-builtin-analyzers']);
    assert.equal(r.status, 0, r.stderr);
    for (const d of ['dns', 'tls', 'http', 'alerts']) assert.ok(!existsSync(join(only, 'damselfly', d)), `no ${d} dataset`);
    assert.ok(existsSync(join(only, 'damselfly', 'v1')));
    const bad = runCli(['run', '-i', pcap, '--parquet-dir', join(t.dir, 'x'), '--parquet-datasets', 'flows,conn']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr.trim().split('\n').pop()!, /parquet_datasets: unknown conn \(choose from flows, dns, tls, http, alerts\)/);
  });
});
