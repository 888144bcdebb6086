// `damselfly run` end to end: DuckDB reads the Parquet; columns and types are the seeds' 44
// Community fields plus community_id; metadata keys present; a damaged capture keeps the flows
// decoded before the damage and reports one clear error naming the file and position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { generateCapture } from '../../synth/index.js';
import { COMMUNITY_FIELDS } from '../../streams/schema.js';
import { runCli, tempDir, duckQuery } from '../helpers.js';

const DUCK_TYPE: Record<string, string> = {
  UInt8: 'UTINYINT', UInt16: 'USMALLINT', UInt32: 'UINTEGER', UInt64: 'UBIGINT', Int32: 'INTEGER',
  Float32: 'FLOAT', String: 'VARCHAR', Timestamp: 'TIMESTAMP',
};

const query = duckQuery;

function summary(stdout: string): Record<string, string> {
  const line = stdout.split('\n').find((l) => l.startsWith('summary: '));
  assert.ok(line, `no summary line in:\n${stdout}`);
  return Object.fromEntries(line.slice(9).split(' ').map((kv) => kv.split('=') as [string, string]));
}

test('run writes Parquet that DuckDB reads with the Community schema', async () => {
  const t = tempDir();
  try {
    const gen = await generateCapture({ out: join(t.dir, 'p.pcap'), packets: 20_000, seed: 5 });
    const out = join(t.dir, 'flows');
    const r = runCli(['run', '-i', gen.path, '--parquet-dir', out, '--observation', 'lab-1', '--parquet-batch-size', '500']);
    assert.equal(r.status, 0, r.stderr);
    const s = summary(r.stderr);
    assert.equal(Number(s.packets), gen.packets);
    assert.equal(Number(s.flows), gen.flows.length);
    for (const k of ['bytes', 'files', 'elapsed', 'packets/s', 'parquet_files']) assert.ok(k in s, `summary lacks ${k}`);

    const glob = `${out}/*/v*/**/*.parquet`;
    const cols = await query(`DESCRIBE SELECT * FROM read_parquet('${glob}', hive_partitioning=false)`);
    assert.deepEqual(
      cols.map((c) => [c.column_name, c.column_type]),
      COMMUNITY_FIELDS.map((f) => [f.name, DUCK_TYPE[f.type]]),
    );
    assert.equal(COMMUNITY_FIELDS.length, 45);
    const [count] = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT flowid)::INTEGER AS ids, sum(spkts+dpkts)::BIGINT AS pk, min(obname) AS ob FROM read_parquet('${glob}')`);
    assert.equal(count!.n, gen.flows.length);
    assert.equal(count!.ids, gen.flows.length, 'flowid is unique');
    assert.equal(Number(count!.pk), gen.flows.reduce((a, f) => a + f.spkts + f.dpkts, 0));
    assert.equal(count!.ob, 'lab-1');
    // Rotation by row count: ceil(rows/500) files at least (more when the data spans days).
    const files = await query(`SELECT DISTINCT filename FROM read_parquet('${glob}', filename=true)`);
    assert.ok(files.length >= Math.ceil(gen.flows.length / 500), `${files.length} files`);
    for (const f of files) assert.match(String(f.filename), /\/lab-1\/v1\/year=\d{4}\/month=\d{2}\/day=\d{2}\/damselfly-v1-\d{8}-\d{6}(-\d+)?\.parquet$/);
    const meta = await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${files[0]!.filename}')`);
    const m = Object.fromEntries(meta.map((x) => [x.k, x.v]));
    assert.equal(m['damselfly.observation'], 'lab-1');
    assert.equal(m['damselfly.tier'], 'community');
    assert.equal(m['damselfly.schema_version'], '1');
    // Hive partition values agree with the rows' stime.
    const bad = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${glob}', hive_partitioning=true) WHERE year::INTEGER <> year(stime) OR month::INTEGER <> month(stime) OR day::INTEGER <> day(stime)`);
    assert.equal(bad[0]!.n, 0);
  } finally {
    t.cleanup();
  }
});

test('a truncated capture: one clear error with file and position; earlier flows are written', async () => {
  const t = tempDir();
  try {
    const gen = await generateCapture({ out: join(t.dir, 'full.pcap'), packets: 10_000, seed: 9 });
    const cut = join(t.dir, 'cut.pcap');
    const bytes = readFileSync(gen.path);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6) + 7)); // mid-packet
    assert.ok(statSync(cut).size < bytes.length);
    const out = join(t.dir, 'flows');
    const r = runCli(['run', '-i', cut, '--parquet-dir', out]);
    assert.equal(r.status, 1, `exit 1 expected; stderr:\n${r.stderr}`);
    const errs = r.stderr.trim().split('\n').filter((l) => /error/i.test(l));
    assert.equal(errs.length, 1, r.stderr);
    assert.match(errs[0]!, /cut\.pcap/);
    assert.match(errs[0]!, /packet \d+, byte offset \d+/);
    const s = summary(r.stderr);
    const pk = Number(s.packets);
    assert.ok(pk > 4000 && pk < 10_000, `packets before damage: ${pk}`);
    const [row] = await query(`SELECT count(*)::INTEGER AS n, sum(spkts+dpkts)::BIGINT AS pk FROM read_parquet('${out}/*/v*/**/*.parquet')`);
    assert.ok(Number(row!.n) > 0);
    // Every packet decoded before the damage is in some flow (fragments count once, so <=).
    assert.ok(Number(row!.pk) <= pk && Number(row!.pk) > pk * 0.9, `rows hold ${row!.pk} of ${pk} packets`);
  } finally {
    t.cleanup();
  }
});
