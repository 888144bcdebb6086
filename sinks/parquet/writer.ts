// Community-tier Parquet sink: flow `end` events → hive-partitioned zstd Parquet files.
//
// Threading/memory model: on the pipeline's JS thread the sink filters, deduplicates, groups rows
// by UTC day (of `stime`) and encodes them into columns (numbers as Float64Array, the 13 strings
// of a row packed into one); the native stage of that day (native/, C++) encodes the batch into
// Parquet pages at once and zstd-compresses each page as it fills (~256 KiB), so the rows of a
// file are held compressed. When a stage reaches `batchSize` rows, or at a day change or close(),
// its file is written on a libuv worker thread (the open pages compressed, then header, row
// groups and footer in one write).
//
// Why not DuckDB, which reads the files: staging rows in DuckDB and COPYing them to Parquet cost
// ~0.4 s of CPU per 43k rows on the 2-core box (loading the library in a worker, the Appender, a
// COPY at close that the run waited for), more than metering the packets; the native writer
// does the same file in ~30 ms.
//
// Files are written to a hidden temp name in the target directory and renamed, so a reader
// never sees a partial file; a stage stays in memory until its file is renamed into place, so a
// failed write loses nothing and the next flush retries it.

import { existsSync } from 'node:fs';
import { access, constants, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FlowEvent } from '../../streams/schema.js';
import type { Sink, SinkResult, SinkStats } from '../sink.js';
import { SinkPathError, SinkWriteError, describeFsError } from '../errors.js';
import { resolveParquetSinkOptions, type ParquetSinkOptions, type ResolvedParquetSinkOptions } from './config.js';
import { COLUMNS, CREATED_BY, fileNameFor, kvMetadata, utcDay } from './schema.js';
import { NUMERIC, ROW_SEP, SEP, STRINGS, type ColumnBatch } from './columns.js';
import { loadParquetNative, type ParquetStage } from './native.js';

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

/** One UTC day's rows, encoded and compressed in native memory, waiting for their file. */
interface Stage {
  rows: number;
  /** stime of the stage's first row: names the file. */
  firstStime: number;
  native: ParquetStage;
}

export class ParquetSink implements Sink<FlowEvent, ParquetSinkStats> {
  readonly name = NAME;
  private readonly o: ResolvedParquetSinkOptions;
  private opened = false;
  private readonly days = new Map<number, Stage>();
  private readonly dedup: DedupFilter | null;
  private readonly files: string[] = [];
  private readonly taken = new Set<string>();
  /** Serializes stage/flush requests (write() and close() may overlap). */
  private chain: Promise<unknown> = Promise.resolve();
  private closed: Promise<SinkResult> | null = null;
  private s = { received: 0, written: 0, errors: 0, skippedNonEnd: 0, duplicates: 0 };

  constructor(opts: ParquetSinkOptions) {
    this.o = resolveParquetSinkOptions(opts);
    this.dedup = this.o.dedupCapacity > 0 ? new DedupFilter(this.o.dedupCapacity) : null;
  }

  /** Check the output directory (a user error names it) and load the writer. Called by write() if needed. */
  async open(): Promise<void> {
    if (this.opened) return;
    await ensureWritableDir(path.resolve(this.o.dir));
    loadParquetNative();
    this.opened = true;
  }

  /**
   * Rows are staged (encoded and compressed) as they arrive and stay staged until their file is
   * renamed into place: a failed write loses nothing, the transport retries the batch and dedup
   * recognizes what is already staged.
   */
  async write(batch: readonly FlowEvent[]): Promise<void> {
    if (this.closed) throw new SinkWriteError(NAME, this.o.dir, new Error('write() after close()'));
    if (!this.opened) await this.open();
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
        // (flowid, seq); seq 0 (no start/update records before the end) keys by the id string
        // itself, no per-row allocation. Flow ids never hold NUL, so the two forms cannot collide.
        const key = e.seq === 0 ? e.flowid : `${e.flowid}\u0000${e.seq}`;
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

  /** Append one day's rows to its stage; a stage that reaches batchSize rows becomes a file. */
  private async stageRows(day: number, rows: readonly FlowEvent[]): Promise<void> {
    for (let off = 0; off < rows.length; ) {
      let st = this.days.get(day);
      if (!st) this.days.set(day, (st = { rows: 0, firstStime: rows[off]!.stime, native: newStage() }));
      const n = Math.min(rows.length - off, this.o.batchSize - st.rows);
      try {
        const b = encodeColumns(rows, off, n);
        st.native.append(b.nums, b.packed, b.plain, b.n);
      } catch (e) {
        this.s.errors++;
        throw new SinkWriteError(NAME, this.o.dir, e);
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
      await st.native.writeFile(tmp, kvMetadata(this.o.observation, st.rows, new Date()), CREATED_BY);
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      this.s.errors++;
      this.taken.delete(final);
      throw new SinkWriteError(NAME, final, e); // the stage stays: nothing is lost, a later flush may retry
    }
    st.native.release();
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

function newStage(): ParquetStage {
  return new (loadParquetNative().ParquetStage)(COLUMNS, {});
}

// ------------------------------------------------------------------------------------------------
// encoding: rows → columns. Generated with literal property names so the loads are monomorphic (a
// keyed load with a variable name was a third of the encoding time). Names come from
// COMMUNITY_FIELDS, not input.

function str(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : String(v);
}

const fillNums = new Function(
  'rows',
  'off',
  'n',
  'cols',
  `for (let i = 0; i < n; i++) { const r = rows[off + i]; ${NUMERIC.map((f, c) => `cols[${c}][i] = r.${f.name} || 0;`).join(' ')} }`,
) as (rows: readonly FlowEvent[], off: number, n: number, cols: Float64Array[]) => void;

const pack = new Function('str', 'SEP', `return (r) => ${STRINGS.map((f) => `str(r.${f.name})`).join(' + SEP + ')};`)(str, SEP) as (
  r: FlowEvent,
) => string;

/** Rows [off, off+n) as a ColumnBatch; strings packed unless one holds a separator. */
export function encodeColumns(rows: readonly FlowEvent[], off: number, n: number): ColumnBatch {
  const nums = NUMERIC.map(() => new Float64Array(n));
  fillNums(rows, off, n, nums);
  const parts = new Array<string>(n);
  const seps = STRINGS.length - 1;
  for (let i = 0; i < n; i++) {
    const p = pack(rows[off + i]!);
    let count = 0;
    for (let at = p.indexOf(SEP); at !== -1; at = p.indexOf(SEP, at + 1)) count++;
    if (count !== seps || p.includes(ROW_SEP)) {
      const plain = STRINGS.map((f) => {
        const col = new Array<string>(n);
        for (let j = 0; j < n; j++) col[j] = str(rows[off + j]![f.name as keyof FlowEvent]);
        return col;
      });
      return { n, nums, packed: null, plain };
    }
    parts[i] = p;
  }
  return { n, nums, packed: parts.join(ROW_SEP), plain: null };
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
