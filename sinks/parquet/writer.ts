// Community-tier Parquet sink: flow `end` events → hive-partitioned zstd Parquet files.
//
// Memory/threading model: rows are staged per UTC day (of `stime`) in a table of an in-memory
// DuckDB instance as they arrive; a day's stage is written to its file when it reaches
// `batchSize` rows, and every stage at close(). Writes are serialized on one connection.
//
// How rows get into DuckDB (measured on the 2-core dev box, 100k rows × 45 columns, each figure
// including the zstd COPY to Parquet, ~0.14 s of it):
//   - Appender, one append call per value ............................ 1.71 s  (58k rows/s)
//   - CSV text in a temp file + COPY (SELECT … FROM read_csv(columns=…)) 2.59 s  (39k rows/s)
//   - NDJSON (JSON.stringify) temp file + read_json(columns=…) ....... 2.10 s  (48k rows/s)
//   - DataChunks filled with DuckDBVector.setItem + appendDataChunk ... 0.94 s (106k rows/s)
//   - DataChunks, numeric columns written straight into the vectors' typed arrays (64-bit
//     values as two 32-bit halves: no BigInt per value), strings via setItem .. 0.75 s (133k rows/s)
//   - the same, with the 14 strings of a row packed into one VARCHAR (split again by string_split
//     in the COPY query) and generated monomorphic field loads ........... 0.50-0.60 s (KEPT,
//     ~170-200k rows/s)
// The text formats lose on the JS side (building 100k CSV lines or JSON strings alone costs
// 0.5-1 s on that box). What remains: Appender.closeSync (DuckDB's own append, ~0.17 s, on the
// JS thread), the string N-API calls, the zstd COPY (~0.14 s, DuckDB threads) and dedup (~0.03 s).
//
// Files are written to a hidden temp name in the target directory and renamed, so a reader
// never sees a partial file.

import { existsSync } from 'node:fs';
import { access, constants, mkdir, rename, rm, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, DuckDBDataChunk, DuckDBInstance, DuckDBType, DuckDBVector } from '@duckdb/node-api';
import { duckdb } from './duckdb.js';
import type { FlowEvent, FieldType } from '../../streams/schema.js';
import type { Sink, SinkResult, SinkStats } from '../sink.js';
import { SinkPathError, SinkWriteError, describeFsError } from '../errors.js';
import { resolveParquetSinkOptions, type ParquetSinkOptions, type ResolvedParquetSinkOptions } from './config.js';
import { COLUMNS, DUCKDB_TYPE, SQL_TYPE, columnsDdl, fileNameFor, kvMetadata, quoteIdent, quoteLiteral, utcDay } from './schema.js';

export interface ParquetSinkStats extends SinkStats {
  /** Flow events of kind start/update (archived in a later tier; ignored here). */
  skippedNonEnd: number;
  /** Rows dropped because their (flowid, seq) was already taken. */
  duplicates: number;
  /** Files completed. */
  files: number;
  /** Rows buffered, not yet written. */
  buffered: number;
}

const NAME = 'sink.parquet';
const CHUNK_ROWS = 2048; // DuckDB's vector size
const YIELD_EVERY_CHUNKS = 16; // give the event loop a turn every ~32k rows while encoding
const TWO32 = 4294967296;
const LITTLE_ENDIAN = endianness() === 'LE';

/** One UTC day's rows staged in DuckDB, waiting for their file. */
interface Stage {
  table: string;
  enc: Encoding;
  rows: number;
  /** stime of the stage's first row: names the file. */
  firstStime: number;
}

export class ParquetSink implements Sink<FlowEvent, ParquetSinkStats> {
  readonly name = NAME;
  private readonly o: ResolvedParquetSinkOptions;
  private instance: DuckDBInstance | null = null;
  private con: DuckDBConnection | null = null;
  private readonly days = new Map<number, Stage>();
  private readonly dedup: DedupFilter | null;
  private readonly files: string[] = [];
  private readonly taken = new Set<string>();
  private tables = 0;
  /** Serializes DuckDB work (write() and close() may overlap). */
  private chain: Promise<unknown> = Promise.resolve();
  private closed: Promise<SinkResult> | null = null;
  private s = { received: 0, written: 0, errors: 0, skippedNonEnd: 0, duplicates: 0 };

  constructor(opts: ParquetSinkOptions) {
    this.o = resolveParquetSinkOptions(opts);
    this.dedup = this.o.dedupCapacity > 0 ? new DedupFilter(this.o.dedupCapacity) : null;
  }

  /** Check the output directory (a user error names it) and start DuckDB. Called by write() if needed. */
  async open(): Promise<void> {
    if (this.con) return;
    const root = path.resolve(this.o.dir);
    await ensureWritableDir(root);
    this.instance = await duckdb.DuckDBInstance.create(':memory:');
    this.con = await this.instance.connect();
  }

  /**
   * Rows are staged into DuckDB as they arrive (so encoding overlaps capture instead of piling up
   * at close) and stay there until their file is renamed into place: a failed write loses nothing,
   * the transport retries the batch and dedup recognizes what is already staged.
   */
  async write(batch: readonly FlowEvent[]): Promise<void> {
    if (this.closed) throw new SinkWriteError(NAME, this.o.dir, new Error('write() after close()'));
    if (!this.con) await this.open();
    const byDay = new Map<number, FlowEvent[]>();
    const keys: string[] = [];
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      this.s.received++;
      if (e.kind !== 'end') {
        this.s.skippedNonEnd++;
        continue;
      }
      if (this.dedup) {
        const key = `${e.flowid}\u0000${e.seq}`;
        if (!this.dedup.add(key)) {
          this.s.duplicates++;
          continue;
        }
        keys.push(key);
      }
      const day = utcDay(e.stime);
      let rows = byDay.get(day);
      if (!rows) byDay.set(day, (rows = []));
      rows.push(e);
    }
    if (byDay.size === 0) return;
    try {
      await this.serial(async () => {
        for (const day of [...byDay.keys()].sort((a, b) => a - b)) await this.stageRows(day, byDay.get(day)!);
      });
    } catch (e) {
      // Not staged: forget the keys so the transport's retry of this batch is not taken for a duplicate.
      for (const k of keys) this.dedup?.delete(k);
      throw e;
    }
  }

  close(): Promise<SinkResult> {
    if (!this.closed) {
      this.closed = this.serial(async () => {
        const order = [...this.days.keys()].sort((a, b) => a - b);
        for (const day of order) await this.flushDay(day);
        this.con?.closeSync();
        this.instance?.closeSync();
        this.con = null;
        this.instance = null;
        return { files: [...this.files], rows: this.s.written };
      });
    }
    return this.closed;
  }

  stats(): ParquetSinkStats {
    let buffered = 0;
    for (const st of this.days.values()) buffered += st.rows;
    return { ...this.s, files: this.files.length, buffered };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private connection(): DuckDBConnection {
    if (!this.con) throw new SinkWriteError(NAME, this.o.dir, new Error('sink is not open'));
    return this.con;
  }

  /** Append one day's rows to its stage; a stage that reaches batchSize rows becomes a file. */
  private async stageRows(day: number, rows: readonly FlowEvent[]): Promise<void> {
    const con = this.connection();
    for (let off = 0; off < rows.length; ) {
      let st = this.days.get(day);
      if (!st) {
        st = { table: `stage_${++this.tables}`, enc: PACKED, rows: 0, firstStime: rows[off]!.stime };
        await con.run(`CREATE TABLE ${st.table} (${st.enc.ddl})`);
        this.days.set(day, st);
      }
      const n = Math.min(rows.length - off, this.o.batchSize - st.rows);
      try {
        await appendRows(con, st.table, st.enc, rows, off, n);
      } catch (e) {
        if (!(e instanceof CannotPack)) throw new SinkWriteError(NAME, this.o.dir, e);
        // A string holds the packing separator: unpack what is staged and go on column by column.
        await con.run(`CREATE TABLE ${st.table}_plain AS ${st.enc.select.replace('{table}', st.table)}`);
        await con.run(`DROP TABLE ${st.table}`);
        st.table = `${st.table}_plain`;
        st.enc = PLAIN;
        await appendRows(con, st.table, st.enc, rows, off, n);
      }
      st.rows += n;
      off += n;
      if (st.rows >= this.o.batchSize) await this.flushDay(day);
    }
  }

  /** Write a day's stage to its Parquet file (temp name, then rename) and drop the stage. */
  private async flushDay(day: number): Promise<void> {
    const st = this.days.get(day);
    if (!st) return;
    if (st.rows === 0) {
      this.days.delete(day);
      return;
    }
    const con = this.connection();
    const name = fileNameFor(this.o.prefix, this.o.observation, st.firstStime);
    const dir = path.join(path.resolve(this.o.dir), name.partition);
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      this.s.errors++;
      throw new SinkPathError(NAME, dir, describeFsError(e), e);
    }
    const final = this.uniqueName(dir, name.stem);
    const tmp = path.join(dir, `.${path.basename(final)}.tmp-${process.pid}`);
    try {
      const kv = kvMetadata(this.o.observation, st.rows, new Date());
      // zstd level 1: on the 2-core box 36% faster than the default level 3 for ~1% larger files.
      await con.run(
        `COPY (${st.enc.select.replace('{table}', st.table)}) TO ${quoteLiteral(tmp)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, KV_METADATA ${kv})`,
      );
      await rename(tmp, final);
    } catch (e) {
      this.s.errors++;
      await rm(tmp, { force: true }).catch(() => undefined);
      this.taken.delete(final);
      throw new SinkWriteError(NAME, final, e);
    }
    await con.run(`DROP TABLE ${st.table}`);
    this.days.delete(day);
    this.s.written += st.rows;
    this.files.push(final);
  }

  /** <stem>.parquet, or <stem>-NNNN.parquet when that name exists or was used by this sink. */
  private uniqueName(dir: string, stem: string): string {
    for (let i = 0; ; i++) {
      const f = path.join(dir, i === 0 ? `${stem}.parquet` : `${stem}-${String(i).padStart(4, '0')}.parquet`);
      if (!this.taken.has(f) && !existsSync(f)) {
        this.taken.add(f);
        return f;
      }
    }
  }
}

/** Append rows[off, off+n) to a staging table, chunk by chunk. */
async function appendRows(con: DuckDBConnection, table: string, enc: Encoding, rows: readonly FlowEvent[], off: number, n: number): Promise<void> {
  const appender = await con.createAppender(table);
  try {
    for (let i = 0, k = 1; i < n; i += CHUNK_ROWS, k++) {
      appender.appendDataChunk(encodeChunk(enc, rows, off + i, Math.min(CHUNK_ROWS, n - i)));
      if (k % YIELD_EVERY_CHUNKS === 0) await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    appender.closeSync(); // flushes
  }
}

// ------------------------------------------------------------------------------------------------
// encoding: rows → one DuckDB DataChunk

type Fill = (vec: DuckDBVector, rows: readonly FlowEvent[], off: number, n: number) => void;

/**
 * A staging layout. PLAIN: the 45 columns as they are. PACKED: the 31 numeric columns, plus the 14
 * string columns of a row joined with U+001F into one VARCHAR that the COPY query splits again:
 * one N-API call per row instead of 14 (per-string calls were the largest cost). Used when no
 * string of the file contains U+001F.
 */
interface Encoding {
  ddl: string;
  types: DuckDBType[];
  fills: Fill[];
  select: string;
}

const SEP = '\u001f';
const STRING_FIELDS = COLUMNS.filter((f) => f.type === 'String').map((f) => f.name as keyof FlowEvent);

const PLAIN: Encoding = {
  ddl: columnsDdl(),
  types: COLUMNS.map((f) => DUCKDB_TYPE[f.type]),
  fills: COLUMNS.map((f) => fillFor(f.name as keyof FlowEvent, f.type)),
  select: 'SELECT * FROM {table}',
};

const PACKED: Encoding = (() => {
  const numeric = COLUMNS.filter((f) => f.type !== 'String');
  let k = 0;
  const sel = COLUMNS.map((f) => (f.type === 'String' ? `__s[${++k}] AS ${quoteIdent(f.name)}` : quoteIdent(f.name)));
  return {
    ddl: [...numeric.map((f) => `${quoteIdent(f.name)} ${SQL_TYPE[f.type]}`), '__packed VARCHAR'].join(', '),
    types: [...numeric.map((f) => DUCKDB_TYPE[f.type]), duckdb.VARCHAR],
    fills: [...numeric.map((f) => fillFor(f.name as keyof FlowEvent, f.type)), packedFill],
    select: `SELECT ${sel.join(', ')} FROM (SELECT *, string_split(__packed, chr(31)) AS __s FROM {table})`,
  };
})();

function str(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : String(v);
}

// Generated with literal property names so the loads are monomorphic (a keyed load with a
// variable name was a third of the encoding time). Names come from COMMUNITY_FIELDS, not input.
const pack = new Function(
  'str',
  'SEP',
  `return (r) => ${STRING_FIELDS.map((f) => `str(r.${String(f)})`).join(' + SEP + ')};`,
)(str, SEP) as (r: FlowEvent) => string;

/** Thrown when a string contains the separator: the file is staged PLAIN instead. */
class CannotPack extends Error {}

function packedFill(vec: DuckDBVector, rows: readonly FlowEvent[], off: number, n: number): void {
  const seps = STRING_FIELDS.length - 1;
  for (let i = 0; i < n; i++) {
    const p = pack(rows[off + i]!);
    let count = 0;
    for (let at = p.indexOf(SEP); at !== -1; at = p.indexOf(SEP, at + 1)) count++;
    if (count !== seps) throw new CannotPack();
    vec.setItem(i, p as never);
  }
}

function encodeChunk(enc: Encoding, rows: readonly FlowEvent[], off: number, n: number): DuckDBDataChunk {
  const chunk = duckdb.DuckDBDataChunk.create(enc.types, n);
  for (let c = 0; c < enc.fills.length; c++) {
    const vec = chunk.getColumnVector(c);
    enc.fills[c]!(vec, rows, off, n);
    vec.flush();
  }
  return chunk;
}

/**
 * The vectors of @duckdb/node-api keep their values in a typed array (`items`, private in the
 * typings) that flush() copies to DuckDB. Writing it directly skips the per-value checks and
 * BigInt conversions of setItem(); when the field is missing or of another kind (a different
 * library version), fall back to setItem().
 */
function itemsOf<T extends ArrayBufferView>(vec: DuckDBVector, ctor: new (...a: never[]) => T, n: number): T | null {
  const items = (vec as unknown as { items?: unknown }).items;
  return items instanceof ctor && (items as unknown as { length: number }).length === n ? items : null;
}

function fillFor(name: keyof FlowEvent, type: FieldType): Fill {
  switch (type) {
    case 'String':
      return (vec, rows, off, n) => {
        for (let i = 0; i < n; i++) {
          const v = rows[off + i]![name];
          vec.setItem(i, v === undefined || v === null ? null : String(v) as never);
        }
      };
    case 'UInt8':
      return smallFill(name, Uint8Array);
    case 'UInt16':
      return smallFill(name, Uint16Array);
    case 'UInt32':
      return smallFill(name, Uint32Array);
    case 'Int32':
      return smallFill(name, Int32Array);
    case 'Float32':
      return smallFill(name, Float32Array);
    case 'UInt64':
      return wideFill(name, BigUint64Array, (v) => BigInt(v) as never);
    case 'Timestamp':
      return wideFill(name, BigInt64Array, (v) => new duckdb.DuckDBTimestampValue(BigInt(v)) as never);
  }
}

type SmallArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float32Array;

type FastLoop = (items: ArrayBufferView, rows: readonly FlowEvent[], off: number, n: number) => void;

function fastLoop(body: string): FastLoop {
  return new Function('items', 'rows', 'off', 'n', 'TWO32', `for (let i = 0; i < n; i++) { ${body} }`) as FastLoop;
}

function smallFill(name: keyof FlowEvent, ctor: new (...a: never[]) => SmallArray): Fill {
  const loop = fastLoop(`items[i] = rows[off + i].${String(name)} || 0;`);
  return (vec, rows, off, n) => {
    const items = itemsOf(vec, ctor, n);
    if (items) {
      loop(items, rows, off, n);
    } else {
      for (let i = 0; i < n; i++) vec.setItem(i, ((rows[off + i]![name] as number) || 0) as never);
    }
  };
}

function wideFill(
  name: keyof FlowEvent,
  ctor: typeof BigUint64Array | typeof BigInt64Array,
  slow: (v: number) => never,
): Fill {
  // Integer µs/counters are exact in a double up to 2^53; split into two 32-bit words (two's
  // complement for negative timestamps) instead of a BigInt per value.
  const loop = fastLoop(
    `const v = rows[off + i].${String(name)} || 0; items[2 * i] = v >>> 0; items[2 * i + 1] = Math.floor(v / TWO32) >>> 0;`,
  );
  return (vec, rows, off, n) => {
    const items = LITTLE_ENDIAN ? itemsOf(vec, ctor as unknown as new (...a: never[]) => BigInt64Array, n) : null;
    if (items && items.byteOffset % 4 === 0) {
      (loop as (w: Uint32Array, r: readonly FlowEvent[], o: number, n: number, t: number) => void)(
        new Uint32Array(items.buffer, items.byteOffset, n * 2), rows, off, n, TWO32);
    } else {
      for (let i = 0; i < n; i++) vec.setItem(i, slow(Math.trunc((rows[off + i]![name] as number) || 0)));
    }
  };
}

// ------------------------------------------------------------------------------------------------
// dedup: two generations of keys. add() returns false for a key seen in either. When the current
// generation holds capacity/2 keys it becomes the old one (the previous old one is dropped), so
// the filter remembers at least the capacity/2 most recent keys and never more than capacity.
// Redeliveries arrive soon after the original (a failed batch is retried within seconds), so
// remembering the recent past is enough; an older duplicate would be written twice.

class DedupFilter {
  private cur = new Set<string>();
  private old = new Set<string>();
  private readonly half: number;

  constructor(capacity: number) {
    this.half = Math.max(1, Math.floor(capacity / 2));
  }

  add(key: string): boolean {
    if (this.cur.has(key) || this.old.has(key)) return false;
    if (this.cur.size >= this.half) {
      this.old = this.cur;
      this.cur = new Set();
    }
    this.cur.add(key);
    return true;
  }

  delete(key: string): void {
    this.cur.delete(key);
    this.old.delete(key);
  }
}

// ------------------------------------------------------------------------------------------------

async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new SinkPathError(NAME, dir, describeFsError(e), e);
  }
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'EEXIST' });
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new SinkPathError(NAME, dir, describeFsError(e), e);
  }
}
