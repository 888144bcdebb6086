// The DuckDB side of the Parquet sink: staging tables (one per UTC day) that receive columnar
// batches, and the COPY that turns a stage into a zstd Parquet file.
//
// Threading/memory model: a Stager owns one in-memory DuckDB instance and one connection; it is
// used from ONE thread — the sink's worker thread (stage-worker.ts), so DuckDB's synchronous
// appends and the COPY never block the pipeline's JS thread. Batches arrive already columnar
// (numeric columns as Float64Array, strings packed one per row), so nothing here touches events.
import { rename, rm } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { DuckDBConnection, DuckDBInstance, DuckDBType, DuckDBVector } from '@duckdb/node-api';
import { duckdb } from './duckdb.js';
import type { FieldType } from '../../streams/schema.js';
import { COLUMNS, SQL_TYPE, quoteIdent, quoteLiteral } from './schema.js';
import { NUMERIC, ROW_SEP, SEP, STRINGS, type ColumnBatch } from './columns.js';

const DUCKDB_TYPE: Readonly<Record<FieldType, DuckDBType>> = {
  UInt8: duckdb.UTINYINT,
  UInt16: duckdb.USMALLINT,
  UInt32: duckdb.UINTEGER,
  UInt64: duckdb.UBIGINT,
  Int32: duckdb.INTEGER,
  Float32: duckdb.FLOAT,
  String: duckdb.VARCHAR,
  Timestamp: duckdb.TIMESTAMP,
};

const CHUNK_ROWS = 2048; // DuckDB's vector size
const TWO32 = 4294967296;
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * PACKED stages keep the numeric columns plus one VARCHAR per row holding the 13 strings (one
 * N-API call per row instead of 13; the COPY query splits them again). PLAIN keeps all columns.
 */
type Layout = 'packed' | 'plain';

const PACKED_DDL = [...NUMERIC.map((f) => `${quoteIdent(f.name)} ${SQL_TYPE[f.type]}`), '__packed VARCHAR'].join(', ');
const PACKED_SELECT = (() => {
  let k = 0;
  const sel = COLUMNS.map((f) => (f.type === 'String' ? `__s[${++k}] AS ${quoteIdent(f.name)}` : quoteIdent(f.name)));
  return `SELECT ${sel.join(', ')} FROM (SELECT *, string_split(__packed, chr(31)) AS __s FROM {table})`;
})();
// PLAIN stages are created in COLUMNS order too, but the appender fills numeric columns first:
// the PLAIN table orders its columns numeric-then-strings and the SELECT restores COLUMNS order.
const PLAIN_DDL = [...NUMERIC, ...STRINGS].map((f) => `${quoteIdent(f.name)} ${SQL_TYPE[f.type]}`).join(', ');
const PLAIN_ORDER = [...NUMERIC, ...STRINGS].map((f) => quoteIdent(f.name)).join(', ');
const PLAIN_SELECT = `SELECT ${COLUMNS.map((f) => quoteIdent(f.name)).join(', ')} FROM {table}`;

interface Stage {
  table: string;
  layout: Layout;
}

export class Stager {
  private instance: DuckDBInstance | null = null;
  private con: DuckDBConnection | null = null;
  private readonly stages = new Map<number, Stage>();
  private tables = 0;

  async open(): Promise<void> {
    if (this.con) return;
    this.instance = await duckdb.DuckDBInstance.create(':memory:');
    this.con = await this.instance.connect();
  }

  private connection(): DuckDBConnection {
    if (!this.con) throw new Error('stager is not open');
    return this.con;
  }

  /** Append a batch to `day`'s stage (created on first use). */
  async stage(day: number, b: ColumnBatch): Promise<void> {
    const con = this.connection();
    let st = this.stages.get(day);
    if (!st) {
      st = { table: `stage_${++this.tables}`, layout: 'packed' };
      await con.run(`CREATE TABLE ${st.table} (${PACKED_DDL})`);
      this.stages.set(day, st);
    }
    if (b.plain && st.layout === 'packed') {
      // A string held the separator: unpack what is staged and go on column by column.
      const plain = `${st.table}_plain`;
      await con.run(`CREATE TABLE ${plain} (${PLAIN_DDL})`);
      await con.run(`INSERT INTO ${plain} SELECT ${PLAIN_ORDER} FROM (${PACKED_SELECT.replace('{table}', st.table)})`);
      await con.run(`DROP TABLE ${st.table}`);
      st.table = plain;
      st.layout = 'plain';
    }
    const packed = b.packed === null ? null : b.packed.split(ROW_SEP);
    const appender = await con.createAppender(st.table);
    try {
      for (let off = 0; off < b.n; off += CHUNK_ROWS) {
        const n = Math.min(CHUNK_ROWS, b.n - off);
        const types = [...NUMERIC.map((f) => DUCKDB_TYPE[f.type]), ...(st.layout === 'packed' ? [duckdb.VARCHAR] : STRINGS.map(() => duckdb.VARCHAR))];
        const chunk = duckdb.DuckDBDataChunk.create(types, n);
        for (let c = 0; c < NUMERIC.length; c++) fillNumeric(chunk.getColumnVector(c), NUMERIC[c]!.type, b.nums[c]!, off, n);
        if (st.layout === 'packed') {
          if (!packed) throw new Error('packed stage got a plain batch');
          fillStrings(chunk.getColumnVector(NUMERIC.length), packed, off, n);
        } else {
          const cols = b.plain ?? unpack(packed!);
          for (let s = 0; s < STRINGS.length; s++) fillStrings(chunk.getColumnVector(NUMERIC.length + s), cols[s]!, off, n);
        }
        appender.appendDataChunk(chunk);
      }
    } finally {
      appender.closeSync(); // flushes
    }
  }

  /** COPY `day`'s stage to `tmp`, rename it to `final`, drop the stage. */
  async flush(day: number, final: string, tmp: string, kv: string): Promise<void> {
    const st = this.stages.get(day);
    if (!st) return;
    const con = this.connection();
    const select = (st.layout === 'packed' ? PACKED_SELECT : PLAIN_SELECT).replace('{table}', st.table);
    try {
      // zstd level 1: on the 2-core box 36% faster than the default level 3 for ~1% larger files.
      await con.run(`COPY (${select}) TO ${quoteLiteral(tmp)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, KV_METADATA ${kv})`);
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw e; // the stage stays: nothing is lost, a later flush may succeed
    }
    await con.run(`DROP TABLE ${st.table}`);
    this.stages.delete(day);
  }

  close(): void {
    this.con?.closeSync();
    this.instance?.closeSync();
    this.con = null;
    this.instance = null;
  }
}

function unpack(packed: string[]): string[][] {
  const cols = STRINGS.map(() => new Array<string>(packed.length));
  for (let i = 0; i < packed.length; i++) {
    const parts = packed[i]!.split(SEP);
    for (let s = 0; s < STRINGS.length; s++) cols[s]![i] = parts[s] ?? '';
  }
  return cols;
}

function fillStrings(vec: DuckDBVector, values: string[], off: number, n: number): void {
  for (let i = 0; i < n; i++) vec.setItem(i, values[off + i] as never);
  vec.flush();
}

/**
 * The vectors of @duckdb/node-api keep their values in a typed array (`items`, private in the
 * typings) that flush() copies to DuckDB. Writing it directly skips the per-value checks and
 * BigInt conversions of setItem(); when the field is missing or of another kind (a different
 * library version), fall back to setItem().
 */
function itemsOf(vec: DuckDBVector, n: number): ArrayBufferView | null {
  const items = (vec as unknown as { items?: unknown }).items;
  return ArrayBuffer.isView(items) && (items as unknown as { length: number }).length === n ? items : null;
}

function fillNumeric(vec: DuckDBVector, type: FieldType, col: Float64Array, off: number, n: number): void {
  const items = itemsOf(vec, n);
  const src = col.subarray(off, off + n);
  if (type === 'UInt64' || type === 'Timestamp') {
    // Integer µs/counters are exact in a double up to 2^53: write two 32-bit words (two's
    // complement for negative timestamps) instead of a BigInt per value.
    if (items && LITTLE_ENDIAN && (items instanceof BigUint64Array || items instanceof BigInt64Array) && items.byteOffset % 4 === 0) {
      const w = new Uint32Array(items.buffer, items.byteOffset, n * 2);
      for (let i = 0; i < n; i++) {
        const v = src[i]!;
        w[2 * i] = v >>> 0;
        w[2 * i + 1] = Math.floor(v / TWO32) >>> 0;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = BigInt(Math.trunc(src[i]!));
        vec.setItem(i, (type === 'Timestamp' ? new duckdb.DuckDBTimestampValue(v) : v) as never);
      }
    }
  } else if (items && !(items instanceof BigInt64Array || items instanceof BigUint64Array)) {
    (items as Uint8Array).set(src); // converts each double to the column's integer/float type
  } else {
    for (let i = 0; i < n; i++) vec.setItem(i, src[i] as never);
  }
  vec.flush();
}

