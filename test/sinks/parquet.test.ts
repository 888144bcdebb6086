import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ParquetSink } from '../../sinks/parquet/index.js';
import { SinkPathError } from '../../sinks/errors.js';
import { UserError } from '../../streams/errors.js';
import { COMMUNITY_FIELDS, type FlowEvent, type FlowKind } from '../../streams/schema.js';
import { EventBatch } from '../../streams/events/batch.js';

const T0 = Date.UTC(2024, 2, 5, 13, 14, 15) * 1000 + 123_456; // 2024-03-05 13:14:15.123456 UTC, µs

function flow(i: number, over: Partial<FlowEvent> = {}): FlowEvent {
  return {
    type: 'flow', v: 1, obname: 'obs1', ts: T0 + i, kind: 'end', seq: 1,
    version: 1, flowid: `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`,
    stime: T0 + i * 1000, etime: T0 + i * 1000 + 5_000_001, dur: 5000, rtt: 1234, pcr: -42,
    proto: 'TCP', saddr: `10.0.${(i >> 8) & 255}.${i & 255}`, daddr: '2001:db8::1', sport: 40000 + (i % 20000), dport: 443,
    iflags: 'S', uflags: 'SAPF', stcpseq: 4_000_000_000, dtcpseq: 1, svlan: 7, dvlan: 4095,
    spkts: 12, dpkts: 10, sbytes: 2 ** 40 + i, dbytes: 9000, sentropy: 255, dentropy: 0,
    ssmallpktcnt: 3, dsmallpktcnt: 2, slargepktcnt: 4, dlargepktcnt: 6, snonemptypktcnt: 8, dnonemptypktcnt: 7,
    sfirstnonemptycnt: 517, dfirstnonemptycnt: 1400, smaxpktsize: 65535, dmaxpktsize: 1500,
    savgpayload: 300, davgpayload: 1100, sstdevpayload: 40, dstdevpayload: 60,
    spd: 'SDSDSDSS', spdt: '0,1,2,3,40,41,42,43', reason: 'end', smac: '00:11:22:33:44:55', dmac: '66:77:88:99:aa:bb',
    community_id: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
    ...over,
  };
}

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'damselfly-parquet-'));
}

async function duck(): Promise<DuckDBConnection> {
  const inst = await DuckDBInstance.create(':memory:');
  return inst.connect();
}

function glob(dir: string): string {
  return `${dir.replace(/'/g, "''")}/**/*.parquet`;
}

function listParquet(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet')).sort();
}

const EXPECTED_TYPE: Record<string, string> = {
  UInt8: 'UTINYINT', UInt16: 'USMALLINT', UInt32: 'UINTEGER', UInt64: 'UBIGINT',
  Int32: 'INTEGER', Float32: 'FLOAT', String: 'VARCHAR', Timestamp: 'TIMESTAMP',
};

test('files have exactly the 45 community columns, in order, with their types', async () => {
  const dir = tmp();
  const sink = new ParquetSink({ dir, observation: 'obs1' });
  await sink.open();
  await sink.write(EventBatch.fromRows('flow', [flow(0), flow(1)]));
  const res = await sink.close();
  assert.equal(res.rows, 2);
  assert.equal(res.files.length, 1);
  const con = await duck();
  // hive_partitioning=false: DuckDB would otherwise add the year/month/day path keys as columns.
  const r = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${glob(dir)}', hive_partitioning=false)`);
  const cols = r.getRowObjects().map((o) => [String(o['column_name']), String(o['column_type'])]);
  assert.equal(cols.length, 45);
  assert.deepEqual(cols, COMMUNITY_FIELDS.map((f) => [f.name, EXPECTED_TYPE[f.type]]));
  rmSync(dir, { recursive: true });
});

test('values round-trip: µs timestamps, 64-bit counters, strings with commas and quotes', async () => {
  const dir = tmp();
  const sink = new ParquetSink({ dir, observation: 'obs1' });
  const odd = flow(7, {
    obname: `o'b"s,1`, spdt: '0,"1",2\n3', sbytes: 2 ** 53 - 1, dpkts: 0, pcr: -100,
    stime: -1_234_567, etime: T0, proto: 'ICMPv6', reason: 'rst', iflags: '', community_id: '',
  });
  const rows = [flow(0), odd, flow(2)];
  await sink.write(EventBatch.fromRows('flow', rows));
  await sink.close();
  const con = await duck();
  const r = await con.runAndReadAll(
    `SELECT *, epoch_us(stime) AS stime_us, epoch_us(etime) AS etime_us FROM read_parquet('${glob(dir)}') ORDER BY flowid`,
  );
  const got = r.getRowObjects();
  assert.equal(got.length, 3);
  const want = [...rows].sort((a, b) => (a.flowid < b.flowid ? -1 : 1));
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    for (const f of COMMUNITY_FIELDS) {
      if (f.type === 'Timestamp') {
        assert.equal(g[`${f.name}_us`], BigInt(w[f.name as 'stime']), `${f.name} row ${i}`);
      } else if (f.type === 'UInt64') {
        assert.equal(g[f.name], BigInt(w[f.name as 'sbytes']), `${f.name} row ${i}`);
      } else {
        assert.equal(g[f.name], w[f.name as keyof FlowEvent], `${f.name} row ${i}`);
      }
    }
  }
  rmSync(dir, { recursive: true });
});

test('a string containing the staging separator U+001F still round-trips', async () => {
  const dir = tmp();
  const sink = new ParquetSink({ dir, observation: 'obs1' });
  await sink.write(EventBatch.fromRows('flow', [flow(0, { spdt: 'a\u001fb', smac: '' }), flow(1)]));
  await sink.close();
  const con = await duck();
  const r = await con.runAndReadAll(`SELECT spdt, smac, dmac FROM read_parquet('${glob(dir)}') ORDER BY flowid`);
  assert.deepEqual(r.getRows(), [['a\u001fb', '', '66:77:88:99:aa:bb'], [flow(1).spdt, flow(1).smac, '66:77:88:99:aa:bb']]);
  rmSync(dir, { recursive: true });
});

test('parquet_flush_interval: a quiet sink\'s rows reach a file without close(); later rows start a new file', async () => {
  const dir = tmp();
  const sink = new ParquetSink({ dir, observation: 'obs1', flushIntervalS: 0.3 });
  await sink.write(EventBatch.fromRows('flow', [flow(0), flow(1)]));
  const deadline = Date.now() + 5000;
  while (sink.stats().files === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(sink.stats().files, 1, 'the file was closed by the interval');
  assert.equal(sink.stats().timedFlushes, 1);
  assert.equal(listParquet(dir).length, 1);
  await sink.write(EventBatch.fromRows('flow', [flow(2)]));
  const res = await sink.close();
  assert.equal(res.files.length, 2);
  assert.equal(res.rows, 3);
  const con = await duck();
  const r = await con.runAndReadAll(`SELECT count(DISTINCT flowid) AS d FROM read_parquet('${glob(dir)}')`);
  assert.equal(r.getRowObjects()[0]!['d'], 3n);
  rmSync(dir, { recursive: true });
});

test('rotation by row count: ceil(n / batch) files, all rows once, names follow the layout', async () => {
  const dir = tmp();
  const sink = new ParquetSink({ dir, observation: 'obs1', batchSize: 1000 });
  const n = 4500;
  for (let i = 0; i < n; i += 300) {
    const b: FlowEvent[] = [];
    for (let j = i; j < Math.min(n, i + 300); j++) b.push(flow(j));
    await sink.write(EventBatch.fromRows('flow', b));
  }
  assert.ok(sink.stats().files >= 4, 'full files are written before close()');
  const res = await sink.close();
  assert.equal(res.files.length, Math.ceil(n / 1000));
  assert.equal(res.rows, n);
  const files = listParquet(dir);
  assert.equal(files.length, 5);
  for (const f of files) {
    assert.match(f, /^obs1\/v1\/year=2024\/month=03\/day=05\/damselfly-v1-20240305-\d{6}(-\d{4})?\.parquet$/);
  }
  // first row of the first file: stime 13:14:15 → name; same-second files get -NNNN
  assert.ok(files.includes('obs1/v1/year=2024/month=03/day=05/damselfly-v1-20240305-131415.parquet'), files.join(' '));
  const con = await duck();
  const r = await con.runAndReadAll(
    `SELECT count(*) AS c, count(DISTINCT flowid) AS d FROM read_parquet('${glob(dir)}')`,
  );
  const o = r.getRowObjects()[0]!;
  assert.equal(o['c'], BigInt(n));
  assert.equal(o['d'], BigInt(n));
  const per = await con.runAndReadAll(`SELECT count(*) AS c FROM read_parquet('${glob(dir)}', filename=true) GROUP BY filename ORDER BY c`);
  assert.deepEqual(per.getRowObjects().map((x) => Number(x['c'])), [500, 1000, 1000, 1000, 1000]);
  assert.equal(readdirSync(path.dirname(path.join(dir, files[0]!))).filter((f) => f.includes('.tmp')).length, 0);
  rmSync(dir, { recursive: true });
});

test('rows of two UTC days land in two day= partitions, never in one file', async () => {
  const dir = tmp();
  const sink = new ParquetSink({ dir, observation: 'obs1' });
  const midnight = Date.UTC(2024, 11, 31, 0, 0, 0) * 1000; // 2024-12-31 00:00 UTC
  const before = flow(1, { stime: midnight - 1, flowid: 'a' }); // 2024-12-30 23:59:59.999999
  const after = flow(2, { stime: midnight, flowid: 'b' });
  const next = flow(3, { stime: midnight + 86_400_000_000 + 5_000_000, flowid: 'c' }); // 2025-01-01 00:00:05
  await sink.write(EventBatch.fromRows('flow', [before, after, next, flow(4, { stime: midnight - 2, flowid: 'd' })]));
  const res = await sink.close();
  assert.equal(res.files.length, 3);
  const files = listParquet(dir);
  assert.deepEqual(files, [
    'obs1/v1/year=2024/month=12/day=30/damselfly-v1-20241230-235959.parquet',
    'obs1/v1/year=2024/month=12/day=31/damselfly-v1-20241231-000000.parquet',
    'obs1/v1/year=2025/month=01/day=01/damselfly-v1-20250101-000005.parquet',
  ]);
  const con = await duck();
  const r = await con.runAndReadAll(
    `SELECT year, month, day, string_agg(flowid, '' ORDER BY flowid) AS ids FROM read_parquet('${glob(dir)}', hive_partitioning=true)
     GROUP BY ALL ORDER BY year, month, day`,
  );
  assert.deepEqual(
    r.getRowObjects().map((o) => [Number(o['year']), Number(o['month']), Number(o['day']), o['ids']]),
    [[2024, 12, 30, 'ad'], [2024, 12, 31, 'b'], [2025, 1, 1, 'c']],
  );
  rmSync(dir, { recursive: true });
});

test('key/value metadata is present', async () => {
  const dir = tmp();
  const sink = new ParquetSink({ dir, observation: 'edge-7', prefix: 'acme' });
  await sink.write(EventBatch.fromRows('flow', [flow(0, { obname: 'edge-7' }), flow(1, { obname: 'edge-7' }), flow(2, { obname: 'edge-7' })]));
  const res = await sink.close();
  const f = res.files[0]!;
  assert.match(path.basename(f), /^acme-v1-20240305-131415\.parquet$/);
  const con = await duck();
  const r = await con.runAndReadAll(
    `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${f.replace(/'/g, "''")}')`,
  );
  const kv = Object.fromEntries(r.getRowObjects().map((o) => [String(o['k']), String(o['v'])]));
  assert.equal(kv['damselfly.observation'], 'edge-7');
  assert.equal(kv['damselfly.tier'], 'community');
  assert.equal(kv['damselfly.schema_version'], '1');
  assert.equal(kv['damselfly.software'], 'damselfly 0.1.0');
  assert.equal(kv['damselfly.rows'], '3');
  assert.ok(!Number.isNaN(Date.parse(kv['damselfly.created_at']!)), kv['damselfly.created_at']);
  rmSync(dir, { recursive: true });
});

test('rows keep the observation of the sensor that wrote them: folder, file name and metadata per observation', async () => {
  const dir = tmp();
  const sink = new ParquetSink({ dir, observation: 'consumer' });
  await sink.write(EventBatch.fromRows('flow', [flow(0, { obname: 'sensor-a' }), flow(1, { obname: 'sensor-b' }), flow(2, { obname: 'sensor-a' })]));
  const res = await sink.close();
  assert.deepEqual(listParquet(dir), [
    'sensor-a/v1/year=2024/month=03/day=05/damselfly-v1-20240305-131415.parquet',
    'sensor-b/v1/year=2024/month=03/day=05/damselfly-v1-20240305-131415.parquet',
  ]);
  assert.equal(res.rows, 3);
  const con = await duck();
  for (const [obs, n] of [['sensor-a', 2], ['sensor-b', 1]] as const) {
    const f = res.files.find((x) => x.includes(`/${obs}/`))!;
    const kv = Object.fromEntries((await con.runAndReadAll(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${f}')`)).getRowObjects().map((o) => [String(o['k']), String(o['v'])]));
    assert.equal(kv['damselfly.observation'], obs);
    assert.equal(kv['damselfly.rows'], String(n));
    const names = (await con.runAndReadAll(`SELECT DISTINCT obname FROM read_parquet('${f}')`)).getRowObjectsJson().map((r) => r['obname']);
    assert.deepEqual(names, [obs]);
  }
  rmSync(dir, { recursive: true });
});

test('duplicates (same flowid + seq) from a redelivering transport are written once; non-end rows are skipped and counted', async () => {
  const dir = tmp();
  const sink = new ParquetSink({ dir, observation: 'obs1' });
  const kinds: FlowKind[] = ['start', 'update', 'end'];
  const delivered = (rows: ReturnType<typeof flow>[], origin: string) => {
    const b = EventBatch.fromRows('flow', rows);
    b.origin = origin;
    return b;
  };
  const batch = [0, 1, 2].map((i) => flow(i, { kind: kinds[i]!, flowid: 'same', seq: i + 1 }));
  await sink.write(delivered(batch, 'flows/0/10'));
  await sink.write(delivered([flow(0, { flowid: 'same', seq: 3 }), flow(9)], 'flows/0/11-12')); // regrouped redelivery of the end row
  await sink.write(delivered([flow(9, { seq: 2 })], 'flows/0/13')); // same flow, another seq: kept
  const res = await sink.close();
  assert.equal(res.rows, 3);
  const s = sink.stats();
  assert.equal(s.received, 6);
  assert.equal(s.skippedNonEnd, 2);
  assert.equal(s.duplicates, 1);
  assert.equal(s.written, 3);
  assert.equal(s.files, 1);
  const con = await duck();
  const r = await con.runAndReadAll(`SELECT flowid, count(*) AS c FROM read_parquet('${glob(dir)}') GROUP BY flowid ORDER BY flowid`);
  assert.deepEqual(r.getRowObjects().map((o) => [o['flowid'], Number(o['c'])]), [[flow(9).flowid, 2], ['same', 1]]);
  rmSync(dir, { recursive: true });
});

test('batches without an origin (embedded transport: no redelivery) skip the duplicate filter', async () => {
  const dir = tmp();
  const sink = new ParquetSink({ dir, observation: 'obs1' });
  await sink.write(EventBatch.fromRows('flow', [flow(0, { flowid: 'same', seq: 3 })]));
  await sink.write(EventBatch.fromRows('flow', [flow(0, { flowid: 'same', seq: 3 })]));
  const res = await sink.close();
  assert.equal(res.rows, 2);
  assert.equal(sink.stats().duplicates, 0);
  rmSync(dir, { recursive: true });
});

test('an existing file name gets a -NNNN suffix instead of being overwritten', async () => {
  const dir = tmp();
  const part = path.join(dir, 'obs1/v1/year=2024/month=03/day=05');
  const sink0 = new ParquetSink({ dir, observation: 'obs1' });
  await sink0.write(EventBatch.fromRows('flow', [flow(0)]));
  await sink0.close();
  const sink = new ParquetSink({ dir, observation: 'obs1' });
  await sink.write(EventBatch.fromRows('flow', [flow(0)]));
  const res = await sink.close();
  assert.equal(path.basename(res.files[0]!), 'damselfly-v1-20240305-131415-0001.parquet');
  assert.ok(existsSync(path.join(part, 'damselfly-v1-20240305-131415.parquet')));
  rmSync(dir, { recursive: true });
});

test('an unwritable directory is a user error naming the path', async () => {
  const dir = tmp();
  const file = path.join(dir, 'not-a-dir');
  writeFileSync(file, 'x');
  const sink = new ParquetSink({ dir: path.join(file, 'out'), observation: 'obs1' });
  await assert.rejects(sink.open(), (e: unknown) => e instanceof SinkPathError && e instanceof UserError && e.message.includes(file));
  if (process.getuid?.() !== 0) {
    const ro = path.join(dir, 'ro');
    const sink2 = new ParquetSink({ dir: ro, observation: 'obs1' });
    writeFileSync(path.join(dir, 'x'), '');
    chmodSync(dir, 0o500);
    try {
      await assert.rejects(sink2.open(), (e: unknown) => e instanceof UserError && e.message.includes(ro) && /permission denied/.test(e.message));
    } finally {
      chmodSync(dir, 0o700);
    }
  }
  assert.throws(() => new ParquetSink({ dir, observation: '../x' }), UserError);
  rmSync(dir, { recursive: true });
});

test('throughput: 100k rows into one file (printed, not asserted)', async () => {
  const dir = tmp();
  const n = 100_000;
  const rows: FlowEvent[] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = flow(i);
  const sink = new ParquetSink({ dir, observation: 'obs1' });
  await sink.open();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1024) await sink.write(EventBatch.fromRows('flow', rows.slice(i, i + 1024)));
  const res = await sink.close();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  assert.equal(res.rows, n);
  console.log(`# parquet sink: ${n} rows in ${s.toFixed(3)} s = ${Math.round(n / s).toLocaleString('en-US')} rows/s`);
  rmSync(dir, { recursive: true });
});
