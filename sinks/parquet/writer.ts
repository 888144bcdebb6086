// The lake's Parquet sink: flow `end` events → hive-partitioned zstd Parquet files of one tier
// (schema.ts: Community, Basic, Professional, Enterprise). Columns the flow events do not carry
// come from the GeoIP enrichment (enrich/geoip.ts) when configured, else are NULL.
//
// Threading/memory model: on the pipeline's JS thread the sink picks the rows to write from a
// batch's columns — flow end records, not seen before (dedup by flowid + seq, for batches from a
// transport that redelivers: those with an `origin`) — and groups their
// row numbers by observation (the sensor that wrote them) and UTC day (of `stime`); no row object
// is built. The native stage of that observation and day (native/, C++) reads those rows straight
// from the batch's columns, encodes them into Parquet pages and zstd-compresses each page as it
// fills (~256 KiB) on its own thread, so the rows of a file are held compressed. When a stage
// reaches `batchSize` rows, or at close(), its file is written on a libuv worker thread (the open
// pages compressed, then header, row groups and footer in one write).
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
import { access, constants, rename, rm, stat } from 'node:fs/promises';
import { makeDirs } from '../mkdir.js';
import path from 'node:path';
import type { EventBatch } from '../../streams/events/batch.js';
import type { ColumnData, StringData } from '../../streams/events/columns.js';
import type { Sink, SinkResult, SinkStats } from '../sink.js';
import { SinkPathError, SinkWriteError, describeFsError } from '../errors.js';
import { resolveParquetSinkOptions, type ParquetSinkOptions, type ResolvedParquetSinkOptions } from './config.js';
import { CREATED_BY, fileNameFor, kvMetadata, utcDay, TIER_SCHEMAS, type TierSchema } from './schema.js';
import { datasetBatchColumns, datasetColumns, datasetFileName, datasetMetadata, datasetOf } from './dataset.js';
import { DATASET_TYPE, type Dataset } from './config.js';
import type { EventType } from '../../streams/events/table.js';
import { GeoIp, geoColumns, GEO_COLUMN_NAMES, type EnrichedColumn } from '../../enrich/geoip.js';
import { signingKey, type KeyPair } from '../../license/keys.js';
import { tierRank, type License } from '../../license/license.js';
import { licenseMetadata, signMetadata } from '../../license/provenance.js';
import { log } from '../../streams/log.js';
import { loadParquetNative, type ParquetStage } from './native.js';
import { FlowKeyFilter } from './dedup.js';

export interface ParquetSinkStats extends SinkStats {
  /** Files written but not taken by the shipper (S3 spool): they stay under parquet_dir. */
  shipErrors: number;
  /** Rows written to the dns, tls, http and alerts datasets (`written` counts flow rows). */
  datasetRows: number;
  /** Events of a dataset the config leaves out (parquet_datasets). */
  skippedDataset: number;
  /** Files closed by parquet_flush_interval before they were full. */
  timedFlushes: number;
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

/** One observation's rows of one UTC day, encoded and compressed in native memory, waiting for their file. */
interface Stage {
  /** 'flows', or the dataset of L7 events / alerts (dataset.ts). */
  dataset: Dataset;
  observation: string;
  rows: number;
  /** stime of the stage's first row: names the file. */
  firstStime: number;
  /** When (wall clock, ms) the stage got its first row: parquet_flush_interval counts from here. */
  openedAt: number;
  native: ParquetStage;
}

/** The rows of a batch that go to one stage. */
interface Pick {
  observation: string;
  day: number;
  rows: number[];
}

const END = 2; // flow kind code of `end` (events/table.ts FLOW_KINDS)

export class ParquetSink implements Sink<EventBatch<'flow'>, ParquetSinkStats> {
  readonly name = NAME;
  private readonly o: ResolvedParquetSinkOptions;
  private opened = false;
  /** Stages by `${observation}/${day}`. */
  private readonly stages = new Map<string, Stage>();
  private readonly dedup: FlowKeyFilter | null;
  private readonly files: string[] = [];
  private readonly taken = new Set<string>();
  /** Serializes stage/flush requests (write() and close() may overlap). */
  private chain: Promise<unknown> = Promise.resolve();
  private closed: Promise<SinkResult> | null = null;
  private s = { received: 0, written: 0, errors: 0, skippedNonEnd: 0, duplicates: 0, timedFlushes: 0, skippedDataset: 0, datasetRows: 0, shipErrors: 0 };
  private timer: NodeJS.Timeout | null = null;
  private timedFailed = false;
  private readonly schema: TierSchema;
  private readonly geo: GeoIp | null;
  /** Whether the tier has columns the GeoIP enrichment fills. */
  private readonly wantsGeo: boolean;

  private readonly license: License | undefined;
  private signer: KeyPair | null = null;

  constructor(opts: ParquetSinkOptions) {
    this.o = resolveParquetSinkOptions(opts);
    this.dedup = this.o.dedupCapacity > 0 ? new FlowKeyFilter(this.o.dedupCapacity) : null;
    this.license = this.o.license;
    // The license caps the tier: without one, Community (one warning).
    const allowed = this.license?.tier ?? 'community';
    let tier = this.o.tier;
    if (tierRank(tier) > tierRank(allowed)) {
      log('warn', NAME, this.license
        ? `parquet_schema ${tier} needs a license of the ${tier} tier; license ${this.license.id} is ${allowed}: writing the ${allowed} schema`
        : `parquet_schema ${tier} needs a license (license.path, ${'DAMSELFLY_LICENSE_PATH'} or --license): writing the community schema`);
      tier = allowed;
    }
    this.schema = TIER_SCHEMAS[tier];
    if (!this.o.unsigned) {
      this.signer = signingKey(this.o.signingKey, (p, id) => log('info', NAME, `created the signing key ${id} at ${p} (it signs every Parquet file this writer makes)`));
    }
    // opened here, so that a missing or unreadable database stops the pipeline before it starts
    this.geo = this.o.geoip ? new GeoIp(this.o.geoip) : null;
    this.wantsGeo = this.schema.columns.some((c) => (GEO_COLUMN_NAMES as readonly string[]).includes(c.name));
  }

  /** Check the output directory (a user error names it) and load the writer. Called by write() if needed. */
  async open(): Promise<void> {
    if (this.opened) return;
    await ensureWritableDir(path.resolve(this.o.dir));
    loadParquetNative();
    if (this.o.flushIntervalS > 0) {
      const every = Math.min(1000, Math.max(50, (this.o.flushIntervalS * 1000) / 4));
      this.timer = setInterval(() => void this.flushOld(), every);
      this.timer.unref();
    }

    this.opened = true;
  }

  /**
   * Rows are staged (encoded and compressed) as they arrive and stay staged until their file is
   * renamed into place: a failed write loses nothing, the transport retries the batch and dedup
   * recognizes what is already staged.
   */
  async write(batch: EventBatch<'flow'>): Promise<void> {
    if (this.closed) throw new SinkWriteError(NAME, this.o.dir, new Error('write() after close()'));
    if (!this.opened) await this.open();
    if ((batch.type as EventType) !== 'flow') return this.writeDataset(batch as unknown as EventBatch);
    const n = batch.length;
    this.s.received += n;
    if (!this.o.datasets.includes('flows')) {
      this.s.skippedDataset += n;
      return;
    }
    const kind = batch.cols.kind as Uint8Array;
    const seq = batch.cols.seq as Uint32Array;
    const stime = batch.cols.stime as Float64Array;
    const ids = batch.cols.flowid as StringData;
    const obs = batch.cols.obname as StringData;
    const picks = new Map<string, Pick>();
    const taken: number[] = [];
    // Only a redelivering transport (Kafka: at-least-once, producer re-sends) can hand the same row
    // twice; its batches carry an origin. The embedded transport hands each row once (a failed
    // batch's retry is not a duplicate: its keys are forgotten below), so it skips the filter.
    const dedup = batch.origin !== undefined ? this.dedup : null;
    // Rows of a batch nearly always share one observation and day: the pick of the previous row
    // is reused while both match (compared in place, no string made per row).
    let last: Pick | undefined;
    let lastObs = -1;
    for (let i = 0; i < n; i++) {
      if (kind[i] !== END) {
        this.s.skippedNonEnd++;
        continue;
      }
      if (dedup) {
        if (!dedup.add(ids, i, seq[i]!)) {
          this.s.duplicates++;
          continue;
        }
        taken.push(i);
      }
      const day = utcDay(stime[i]!);
      if (!last || last.day !== day || (lastObs !== i && !sameText(obs, lastObs, i))) {
        const observation = batch.str('obname', i) || this.o.observation;
        const k = `${observation}/${day}`;
        last = picks.get(k);
        if (!last) picks.set(k, (last = { observation, day, rows: [] }));
      }
      lastObs = i;
      last.rows.push(i);
    }
    if (picks.size === 0) return;
    try {
      await this.serial(async () => {
        const order = [...picks.values()].sort((a, b) => a.day - b.day || (a.observation < b.observation ? -1 : 1));
        for (const p of order) await this.stageRows(batch, p);
      });
    } catch (e) {
      // Not staged: forget the keys so the transport's retry of this batch is not taken for a duplicate.
      for (const i of taken) dedup?.delete(ids, i, seq[i]!);
      throw e;
    }
  }

  /** Closes the files whose first row came parquet_flush_interval ago (on the sink's serial chain). */
  private async flushOld(): Promise<void> {
    if (this.closed) return;
    const limit = Date.now() - this.o.flushIntervalS * 1000;
    const due = [...this.stages.entries()].filter(([, st]) => st.openedAt <= limit).map(([k]) => k);
    if (due.length === 0) return;
    try {
      await this.serial(async () => {
        for (const key of due.sort()) {
          if (!this.stages.has(key)) continue;
          await this.flushStage(key);
          this.s.timedFlushes++;
        }
      });
      this.timedFailed = false;
    } catch (e) {
      // the stage stays staged (errors counted by flushStage); the next tick or close() tries again
      if (!this.timedFailed) log('warn', NAME, `a timed flush failed, retrying: ${(e as Error).message}`);
      this.timedFailed = true;
    }
  }

  close(): Promise<SinkResult> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    if (!this.closed) {
      this.closed = this.serial(async () => {
        const order = [...this.stages.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
        for (const [key] of order) await this.flushStage(key);
        if (this.o.shipper) {
          const left = await this.o.shipper.close({ timeoutMs: 30_000 });
          if (left.pending > 0) log('warn', NAME, `${left.pending} file(s) wait in the S3 spool ${left.spoolDir}${left.timedOut ? ' (S3 did not take them in 30 s)' : ''}; they upload at the next start`);
        }
        return { files: [...this.files], rows: this.s.written };
      });
    }
    return this.closed;
  }

  stats(): ParquetSinkStats {
    let buffered = 0;
    for (const st of this.stages.values()) buffered += st.rows;
    return { ...this.s, files: this.files.length, buffered };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Append a pick's rows to its stage; a stage that reaches batchSize rows becomes a file. */
  private async stageRows(batch: EventBatch<'flow'>, p: Pick): Promise<void> {
    const { cols, valid } = this.tierColumns(batch, p.rows);
    const stime = batch.cols.stime as Float64Array;
    await this.appendRows(`${p.observation}/${p.day}`, 'flows', p.observation, this.schema.columns, cols, valid, p.rows, stime);
  }

  /**
   * Appends `rows` of a batch (its columns `cols`, validity `valid`) to stage `key` (made with
   * `columns` when new; `time` of its first row names the file), closing the stage as a file each
   * time it reaches batchSize rows.
   */
  private async appendRows(key: string, dataset: Dataset, observation: string, columns: readonly { name: string; type: string }[],
    cols: ColumnData[], valid: (Uint8Array | undefined)[], rows: readonly number[], time: Float64Array): Promise<void> {
    for (let off = 0; off < rows.length; ) {
      let st = this.stages.get(key);
      if (!st) this.stages.set(key, (st = { dataset, observation, rows: 0, firstStime: time[rows[off]!]!, openedAt: Date.now(), native: newStage(columns) }));
      const n = Math.min(rows.length - off, this.o.batchSize - st.rows);
      try {
        st.native.appendColumns(cols, Int32Array.from(rows.slice(off, off + n)), n, valid);
      } catch (e) {
        this.s.errors++;
        throw new SinkWriteError(NAME, this.o.dir, e);
      }
      st.rows += n;
      off += n;
      if (st.rows >= this.o.batchSize) await this.flushStage(key);
    }
  }

  /** Write a stage to its Parquet file (temp name, then rename) and drop the stage. */
  private async flushStage(key: string): Promise<void> {
    const st = this.stages.get(key);
    if (!st) return;
    const flows = st.dataset === 'flows';
    const name = flows ? fileNameFor(this.o.prefix, st.observation, st.firstStime, this.schema) : datasetFileName(this.o.prefix, st.observation, st.dataset, st.firstStime);
    const dir = path.join(path.resolve(this.o.dir), name.partition);
    try {
      await makeDirs(dir);
    } catch (e) {
      this.s.errors++;
      throw new SinkPathError(NAME, dir, describeFsError(e), e);
    }
    const final = this.uniqueName(dir, name.stem);
    const tmp = path.join(dir, `.${path.basename(final)}.tmp-${process.pid}`);
    try {
      const meta = flows
        ? kvMetadata(st.observation, st.rows, new Date(), this.schema)
        : datasetMetadata(st.dataset, kvMetadata(st.observation, st.rows, new Date(), { ...this.schema, columns: datasetColumns(DATASET_TYPE[st.dataset]) as unknown as TierSchema['columns'] }));
      let kv = [...meta, ...licenseMetadata(this.license)];
      if (this.signer) kv = signMetadata(kv, st.native.contentSha256(), this.signer);
      await st.native.writeFile(tmp, kv, CREATED_BY);
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      this.s.errors++;
      this.taken.delete(final);
      throw new SinkWriteError(NAME, final, e); // the stage stays: nothing is lost, a later flush may retry
    }
    st.native.release();
    this.stages.delete(key);
    if (this.o.shipper) {
      // The file is in place; the shipper (S3 spool) makes it durable for upload before we go on.
      try {
        await this.o.shipper.add(final);
      } catch (e) {
        this.s.shipErrors++;
        throw new SinkWriteError(NAME, final, e);
      }
    }
    if (st.dataset === 'flows') this.s.written += st.rows;
    else this.s.datasetRows += st.rows;
    this.files.push(final);
  }

  /**
   * L7 events and alerts: every row, grouped by observation and UTC day of `ts`, into the stage
   * of its dataset (columns as dataset.ts lays them out). Not deduplicated: a transport that
   * redelivers may repeat an event (flows are deduplicated by flowid + seq).
   */
  private async writeDataset(batch: EventBatch): Promise<void> {
    const n = batch.length;
    this.s.received += n;
    const dataset = datasetOf(batch.type);
    if (!dataset || !this.o.datasets.includes(dataset)) {
      this.s.skippedDataset += n;
      return;
    }
    if (n === 0) return;
    const ts = batch.cols.ts as Float64Array;
    const groups = new Map<string, { observation: string; rows: number[] }>();
    for (let i = 0; i < n; i++) {
      const observation = batch.str('obname', i) || this.o.observation;
      const k = `${dataset}/${observation}/${utcDay(ts[i]!)}`;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { observation, rows: [] }));
      g.rows.push(i);
    }
    const { cols, valid } = datasetBatchColumns(batch);
    const columns = datasetColumns(batch.type);
    await this.serial(async () => {
      for (const [key, g] of [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        await this.appendRows(key, dataset, g.observation, columns, cols, valid, g.rows, ts);
      }
    });
  }

  /**
   * The tier's columns over the batch's rows, with their validity: the batch's own columns; the
   * `version` column as the tier's schema version; GeoIP columns from the enrichment (for `rows`);
   * a column nobody determined (no database, the anomaly fields without scores) all NULL.
   */
  private tierColumns(batch: EventBatch<'flow'>, rows: readonly number[]): { cols: ColumnData[]; valid: (Uint8Array | undefined)[] } {
    const n = batch.length;
    const geo: Partial<Record<string, EnrichedColumn>> = this.geo && this.wantsGeo ? geoColumns(this.geo, batch, rows) : {};
    const cols: ColumnData[] = [];
    const valid: (Uint8Array | undefined)[] = [];
    for (const c of this.schema.columns) {
      const e = geo[c.name];
      if (c.name === 'version') {
        cols.push(new Uint16Array(n).fill(this.schema.version));
        valid.push(undefined);
      } else if (batch.cols[c.name] !== undefined) {
        cols.push(batch.column(c.name));
        valid.push(batch.valid[c.name]);
      } else if (e) {
        cols.push(e.data);
        valid.push(e.valid);
      } else {
        cols.push(c.type === 'String' ? { data: '', offsets: new Int32Array(n + 1), ascii: true } : new Float64Array(n));
        valid.push(new Uint8Array(n));
      }
    }
    return { cols, valid };
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

/** Whether rows a and b of a string column hold the same text (compared in place). */
function sameText(c: StringData, a: number, b: number): boolean {
  const o = c.offsets;
  const a0 = o[a]!;
  const b0 = o[b]!;
  const n = o[a + 1]! - a0;
  if (o[b + 1]! - b0 !== n) return false;
  if (a0 === b0) return true;
  const d = c.data;
  for (let k = 0; k < n; k++) if (d.charCodeAt(a0 + k) !== d.charCodeAt(b0 + k)) return false;
  return true;
}

function newStage(columns: readonly { name: string; type: string }[]): ParquetStage {
  return new (loadParquetNative().ParquetStage)(columns as never, {});
}

// ------------------------------------------------------------------------------------------------

async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await makeDirs(dir);
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
