// The native Parquet writer (sinks/parquet/native) on its own: DuckDB must read back exactly what
// was appended across many pages and row groups, the footer's statistics must be the true
// min/max, a failed write must keep the stage (a retry writes every row), and bad arguments must
// be clear errors, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { loadParquetNative } from '../../sinks/parquet/native.js';
import type { FieldType } from '../../streams/schema.js';
import type { ColumnData, StringData } from '../../streams/events/columns.js';

const COLS: { name: string; type: FieldType }[] = [
  { name: 'u8', type: 'UInt8' },
  { name: 's', type: 'String' },
  { name: 'ts', type: 'Timestamp' },
  { name: 'u64', type: 'UInt64' },
  { name: 'i32', type: 'Int32' },
  { name: 'f32', type: 'Float32' },
  { name: 'u16', type: 'UInt16' },
  { name: 'empty', type: 'String' },
  { name: 'u32', type: 'UInt32' },
];
const T0 = Date.UTC(2025, 0, 2, 3, 4, 5) * 1000 + 678_901; // µs

function row(i: number): { nums: number[]; strs: string[] } {
  return {
    nums: [i % 256, T0 + i * 1_000_003, 2 ** 52 + i * 7919, (i % 2 ? -1 : 1) * i * 13, i / 4, (i * 31) % 65536, 4_294_967_295 - i],
    strs: [`h${i}·${'x'.repeat(i % 50)}`, ''],
  };
}

/** Rows [from, from+n) as columns in COLS order: numbers as Float64Arrays, strings as {data, offsets}. */
function batch(from: number, n: number): ColumnData[] {
  const nums = Array.from({ length: 7 }, () => new Float64Array(n));
  const strs = [[], []] as string[][];
  for (let i = 0; i < n; i++) {
    const r = row(from + i);
    r.nums.forEach((v, c) => (nums[c]![i] = v));
    r.strs.forEach((v, c) => strs[c]!.push(v));
  }
  const str = (vals: string[]): StringData => {
    const offsets = new Int32Array(vals.length + 1);
    vals.forEach((v, i) => (offsets[i + 1] = offsets[i]! + v.length));
    return { data: vals.join(''), offsets };
  };
  // COLS: u8 s ts u64 i32 f32 u16 empty u32
  return [nums[0]!, str(strs[0]!), nums[1]!, nums[2]!, nums[3]!, nums[4]!, nums[5]!, str(strs[1]!), nums[6]!];
}

async function duck(): Promise<DuckDBConnection> {
  return (await DuckDBInstance.create(':memory:')).connect();
}

function lit(p: string): string {
  return `'${p.replace(/'/g, "''")}'`;
}

test('many pages and row groups read back exactly; statistics are the true min/max', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'damselfly-pqn-'));
  try {
    const { ParquetStage } = loadParquetNative();
    const st = new ParquetStage(COLS, { pageBytes: 4096, rowGroupRows: 3000 });
    const N = 10_007;
    for (let off = 0; off < N; off += 1234) {
      const n = Math.min(1234, N - off);
      st.appendColumns(batch(off, n), null, n);
    }
    assert.equal(st.rows(), N);
    const file = path.join(dir, 'x.parquet');
    const size = await st.writeFile(file, [['damselfly.k', 'v'], ['other', 'é']], 'damselfly version 0.1.0');
    assert.equal(size, statSync(file).size);
    const con = await duck();
    const types = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit(file)})`)).getRowObjectsJS();
    assert.deepEqual(
      types.map((t) => `${String(t.column_name)}:${String(t.column_type)}`),
      ['u8:UTINYINT', 's:VARCHAR', 'ts:TIMESTAMP', 'u64:UBIGINT', 'i32:INTEGER', 'f32:FLOAT', 'u16:USMALLINT', 'empty:VARCHAR', 'u32:UINTEGER'],
    );
    const rows = (await con.runAndReadAll(`SELECT u8, s, epoch_us(ts) AS ts, u64, i32, f32, u16, empty, u32 FROM read_parquet(${lit(file)})`)).getRowObjectsJS();
    assert.equal(rows.length, N);
    for (let i = 0; i < N; i++) {
      const r = row(i);
      const got = rows[i]!;
      const want = { u8: r.nums[0], s: r.strs[0], ts: r.nums[1], u64: r.nums[2], i32: r.nums[3], f32: Math.fround(r.nums[4]!), u16: r.nums[5], empty: '', u32: r.nums[6] };
      const norm = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
      assert.deepEqual(norm, want, `row ${i}`);
    }
    const groups = (await con.runAndReadAll(`SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${lit(file)}) ORDER BY 1`)).getRowObjectsJS();
    assert.deepEqual(groups.map((g) => Number(g.row_group_num_rows)), [3000, 3000, 3000, 1007]);
    // footer statistics against the values themselves, per row group
    const stats = (
      await con.runAndReadAll(
        `SELECT row_group_id AS g, path_in_schema AS c, stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls FROM parquet_metadata(${lit(file)}) WHERE path_in_schema IN ('u8','i32','u64','u32','s')`,
      )
    ).getRowObjectsJS();
    for (const s of stats) {
      const g = Number(s.g);
      const from = g * 3000;
      const vals = Array.from({ length: Math.min(3000, N - from) }, (_, k) => row(from + k));
      const col = String(s.c);
      if (col === 's') {
        const xs = vals.map((v) => v.strs[0]!).filter((x) => Buffer.byteLength(x) <= 64);
        if (xs.length === vals.length) {
          const sorted = xs.map((x) => Buffer.from(x)).sort(Buffer.compare);
          assert.equal(s.lo, sorted[0]!.toString(), `min of s, group ${g}`);
          assert.equal(s.hi, sorted.at(-1)!.toString(), `max of s, group ${g}`);
        } else assert.equal(s.lo, null, 'strings over 64 bytes: no inexact statistics');
        continue;
      }
      const idx = { u8: 0, u64: 2, i32: 3, u32: 6 }[col]!;
      const xs = vals.map((v) => v.nums[idx]!);
      assert.equal(Number(s.lo), Math.min(...xs), `min of ${col}, group ${g}`);
      assert.equal(Number(s.hi), Math.max(...xs), `max of ${col}, group ${g}`);
      assert.equal(Number(s.nulls), 0);
    }
    const kv = (await con.runAndReadAll(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${lit(file)}) ORDER BY 1`)).getRowObjectsJS();
    assert.deepEqual(kv, [{ k: 'damselfly.k', v: 'v' }, { k: 'other', v: 'é' }]);
    const meta = (await con.runAndReadAll(`SELECT created_by, num_rows FROM parquet_file_metadata(${lit(file)})`)).getRowObjectsJS();
    assert.equal(meta[0]!.created_by, 'damselfly version 0.1.0');
    assert.equal(Number(meta[0]!.num_rows), N);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NULLs: definition levels across pages, row groups and batches; values and null counts read back exactly', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'damselfly-pqn-'));
  try {
    const { ParquetStage } = loadParquetNative();
    const st = new ParquetStage(COLS, { pageBytes: 4096, rowGroupRows: 3000 });
    const N = 10_007;
    // per column a pattern: u8 every 3rd row null, s every 7th, ts none (no validity given), u64 a
    // run of 2000 nulls (whole pages), i32 all null, f32 every other, u16 only row 5000, empty
    // none (validity all 1), u32 null in the middle batch only
    const isNull = (c: number, i: number): boolean => [
      i % 3 === 0, i % 7 === 0, false, i >= 4000 && i < 6000, true, i % 2 === 1, i !== 5000, false, i >= 1234 && i < 2468,
    ][c]!;
    for (let off = 0; off < N; off += 1234) {
      const n = Math.min(1234, N - off);
      const valid = COLS.map((_, c) => (c === 2 ? null : Uint8Array.from({ length: n }, (_, k) => (isNull(c, off + k) ? 0 : 1))));
      st.appendColumns(batch(off, n), null, n, valid);
    }
    const file = path.join(dir, 'nulls.parquet');
    await st.writeFile(file, [], 'damselfly version 0.1.0');
    const con = await duck();
    const rows = (await con.runAndReadAll(`SELECT u8, s, epoch_us(ts) AS ts, u64, i32, f32, u16, empty, u32 FROM read_parquet(${lit(file)})`)).getRowObjectsJS();
    assert.equal(rows.length, N);
    const names = ['u8', 's', 'ts', 'u64', 'i32', 'f32', 'u16', 'empty', 'u32'];
    for (let i = 0; i < N; i++) {
      const r = row(i);
      const vals = [r.nums[0], r.strs[0], r.nums[1], r.nums[2], r.nums[3], Math.fround(r.nums[4]!), r.nums[5], '', r.nums[6]];
      const want = Object.fromEntries(names.map((n, c) => [n, isNull(c, i) ? null : vals[c]]));
      const got = Object.fromEntries(Object.entries(rows[i]!).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
      assert.deepEqual(got, want, `row ${i}`);
    }
    const stats = (await con.runAndReadAll(`SELECT path_in_schema AS c, sum(stats_null_count)::BIGINT AS nulls, min(stats_min_value) AS lo FROM parquet_metadata(${lit(file)}) GROUP BY 1`)).getRowObjectsJS();
    const byCol = Object.fromEntries(stats.map((s) => [String(s.c), Number(s.nulls)]));
    names.forEach((n, c) => {
      let want = 0;
      for (let i = 0; i < N; i++) want += isNull(c, i) ? 1 : 0;
      assert.equal(byCol[n], want, `null_count of ${n}`);
    });
    assert.equal(stats.find((s) => s.c === 'u16')!.lo, String(row(5000).nums[5]), 'min/max over the defined values only');
    assert.equal(stats.find((s) => s.c === 'i32')!.lo, null, 'an all-NULL column has no min/max');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('numbers convert like a typed-array store: truncation, wrap to the width, NaN and infinities → 0', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'damselfly-pqn-'));
  try {
    const { ParquetStage } = loadParquetNative();
    const cols: { name: string; type: FieldType }[] = [
      { name: 'a', type: 'UInt8' },
      { name: 'b', type: 'UInt16' },
      { name: 'c', type: 'Int32' },
      { name: 'd', type: 'UInt32' },
    ];
    const inputs = [3.9, 256 + 7, -1, NaN, Infinity, 70000.5, 2 ** 31, -(2 ** 31) - 1];
    const st = new ParquetStage(cols, {});
    st.appendColumns(cols.map(() => Float64Array.from(inputs)), null, inputs.length);
    const file = path.join(dir, 'c.parquet');
    await st.writeFile(file, [], 'x');
    const con = await duck();
    const got = (await con.runAndReadAll(`SELECT a, b, c, d FROM read_parquet(${lit(file)})`)).getRowObjectsJS();
    const want = (T: Uint8ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor) => Array.from(T.from(inputs.map((x) => (Number.isFinite(x) ? x : 0))));
    assert.deepEqual(got.map((r) => r.a), want(Uint8Array));
    assert.deepEqual(got.map((r) => r.b), want(Uint16Array));
    assert.deepEqual(got.map((r) => r.c), want(Int32Array));
    assert.deepEqual(got.map((r) => Number(r.d)), want(Uint32Array));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed write names the path, leaves no file and keeps the stage: the retry writes every row', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'damselfly-pqn-'));
  try {
    const { ParquetStage } = loadParquetNative();
    const st = new ParquetStage(COLS, { pageBytes: 2048, rowGroupRows: 500 });
    st.appendColumns(batch(0, 1800), null, 1800);
    const bad = path.join(dir, 'missing-dir', 'x.parquet');
    await assert.rejects(st.writeFile(bad, [], 'x'), (e: Error) => e.message.includes(bad) && /no such file/i.test(e.message));
    assert.equal(st.rows(), 1800);
    const good = path.join(dir, 'x.parquet');
    await st.writeFile(good, [], 'x');
    const con = await duck();
    const n = (await con.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT s)::INTEGER AS d FROM read_parquet(${lit(good)})`)).getRowObjectsJS();
    assert.deepEqual(n, [{ n: 1800, d: 1800 }]);
    st.release();
    assert.equal(st.rows(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad arguments are clear errors: unknown type, wrong column counts, short columns, bad offsets and rows, overlapping calls', async () => {
  const { ParquetStage } = loadParquetNative();
  assert.throws(() => new ParquetStage([{ name: 'x', type: 'Decimal' as FieldType }], {}), /unknown column type Decimal/);
  const st = new ParquetStage(COLS, {});
  const b = batch(0, 10);
  assert.throws(() => st.appendColumns(b.slice(1), null, 10), /wrong number of columns/);
  assert.throws(() => st.appendColumns(b, null, 11), /column u8 is shorter than the rows/);
  assert.throws(() => st.appendColumns(b, Int32Array.of(0, 3, 10), 3), /column u8 is shorter than the rows/);
  assert.throws(() => st.appendColumns(b, Int32Array.of(0, -1), 2), /negative row in sel/);
  assert.throws(() => st.appendColumns(b, [0, 1] as unknown as Int32Array, 2), /sel must be an Int32Array or null/);
  const badText = [...b];
  badText[1] = { data: 'abc', offsets: Int32Array.from({ length: 11 }, (_, i) => i) };
  assert.throws(() => st.appendColumns(badText, null, 10), /offsets of s run past the data/);
  const notText = [...b];
  notText[1] = new Float64Array(10);
  assert.throws(() => st.appendColumns(notText, null, 10), /column s must be \{data: string, offsets: Int32Array\}/);
  const notNums = [...b];
  notNums[0] = { data: '', offsets: new Int32Array(11) };
  assert.throws(() => st.appendColumns(notNums, null, 10), /column u8 must be a typed array/);
  assert.equal(st.rows(), 0, 'nothing half-appended');
  // A selection of rows, in the order given, with strings read as latin1 when flagged ASCII.
  const ascii = [...b];
  const words = Array.from({ length: 10 }, (_, i) => `w${i}`);
  ascii[1] = { data: words.join(''), offsets: Int32Array.from({ length: 11 }, (_, i) => 2 * i), ascii: true };
  st.appendColumns(ascii, Int32Array.of(7, 2, 2), 3);
  const dir = mkdtempSync(path.join(tmpdir(), 'damselfly-pqn-'));
  try {
    const w = st.writeFile(path.join(dir, 'y.parquet'), [], 'x');
    assert.throws(() => st.appendColumns(b, null, 10), /writeFile\(\) is running/);
    await w;
    const con = await duck();
    const got = (await con.runAndReadAll(`SELECT s, u8 FROM read_parquet(${lit(path.join(dir, 'y.parquet'))})`)).getRowObjectsJS();
    assert.deepEqual(got, [{ s: 'w7', u8: 7 }, { s: 'w2', u8: 2 }, { s: 'w2', u8: 2 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
