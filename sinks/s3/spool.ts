// The local spool in front of S3: files handed to add() are made durable in a spool directory
// first, then uploaded one at a time, oldest first, by a background loop that retries until S3
// takes them. The spool survives restarts: a new process uploads what an old one left.
//
// On disk (spool_dir, default <output.parquet_dir>/.s3-spool), one entry per file:
//   <seq>.data   the bytes: a hard link to the file when it is on the same filesystem (no copy,
//                no extra space), else a copy; fsync'd before the manifest exists
//   <seq>.json   the manifest (object key, source path, size, inode): written to a temp name,
//                fsync'd and renamed, then the directory fsync'd — an entry exists iff its
//                manifest does. A .data without a .json (a crash inside add()) is removed at
//                start; the source file was never touched, so nothing is lost.
//   lock         the pid of the process that owns the spool (one at a time; a dead owner's is taken over)
//   failed/      entries S3 refused for a reason of their own (not credentials, not the bucket,
//                not the network) five times: kept there and counted, never deleted.
// `seq` orders uploads; it continues after the largest number found at start (failed/ included).
//
// After an upload: with delete_after_upload the source file is deleted (only if it is still the
// file that was spooled: same inode, or same size and mtime for a copy), then the entry;
// without it the source stays where the writer put it (the seeds' meaning: local files are kept)
// and only the spool's link or copy goes. A crash between upload and removal uploads the file
// again at the next start: a PUT of the same key with the same bytes, harmless.
//
// Bounded: at most spoolMaxBytes of files wait; add() of a file that does not fit waits (a loud
// warning once per episode, counted in stats().fullWaits) until uploads make room — never a
// silent drop. A file larger than the whole bound is admitted when the spool is empty.
//
// With s3.aggregate, the loop holds files and sends the Parquet files of one minute as one merged
// object (aggregate.ts); the files leave the spool only once that object is uploaded.
//
// Objects are never partial: the uploader sends one PUT or a completed multipart upload.

import { constants, link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { log } from '../../streams/log.js';
import { InternalError } from '../../streams/errors.js';
import { makeDirs } from '../mkdir.js';
import { SinkPathError, SinkWriteError, describeFsError } from '../errors.js';
import { resolveS3Options, s3OptionsFromConfig, type ResolvedS3Options, type S3Options } from './config.js';
import type { Config } from '../../streams/config.js';
import { objectKey } from './keys.js';
import { S3Uploader, backoffDelay, type UploadResult } from './uploader.js';
import { S3RequestError, S3UserError } from './errors.js';
import { mergeParquet, nextGroup } from './aggregate.js';

const NAME = 'sink.s3';
const MANIFEST_VERSION = 1;
/** Failed attempts of one file (for a reason of its own) before it moves to failed/. */
const QUARANTINE_AFTER = 5;

/** DuckDB could not merge a group (s3.aggregate): its files go one by one instead. */
class MergeError extends Error {}

interface Entry {
  v: number;
  seq: number;
  key: string;
  /** Absolute path of the file as added. */
  source: string;
  size: number;
  /** The source's identity when spooled, to delete it after upload only if it is the same file. */
  dev: number;
  ino: number;
  mtimeMs: number;
  /** true: <seq>.data is a hard link to the source; false: a copy. */
  linked: boolean;
  addedAt: number;
}

export interface S3SpoolStats {
  /** Files accepted by add() (durable in the spool). */
  added: number;
  addedBytes: number;
  /** Files found in the spool at start (left by an earlier process). */
  recovered: number;
  /** Files uploaded (and removed from the spool). */
  uploaded: number;
  uploadedBytes: number;
  /** Objects written: one per file, or one per merged group with s3.aggregate. */
  objects: number;
  /** Files waiting in the spool now. */
  pending: number;
  pendingBytes: number;
  /** Failed upload attempts (each file attempt counts; the file stays and is retried). */
  errors: number;
  /** Requests retried inside an attempt (5xx, timeouts, connection errors). */
  retries: number;
  /** add() calls that had to wait because the spool was full. */
  fullWaits: number;
  /** add() calls waiting for room now. */
  waiting: number;
  /** Files moved to <spool>/failed/ after repeated refusals of their own. */
  failed: number;
  /** Always 0: the spool never drops a file. Here for the sink counters' shape. */
  dropped: number;
  lastError: string | undefined;
}

export interface S3SpoolCloseReport {
  /** Files (and bytes) still in the spool: they upload at the next start. */
  pending: number;
  pendingBytes: number;
  uploaded: number;
  /** Whether close() stopped waiting at its deadline with files left. */
  timedOut: boolean;
  spoolDir: string;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Bytes for a log line: KiB under a MiB, else MiB with one decimal. */
function human(bytes: number): string {
  return bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;
}

const seqName = (seq: number) => String(seq).padStart(12, '0');

export class S3Spool {
  readonly options: ResolvedS3Options;
  readonly uploader: S3Uploader;
  private readonly ready: Promise<void>;
  private entries: Entry[] = [];
  private nextSeq = 1;
  private reservedBytes = 0;
  private reservedFiles = 0;
  private closing = false;
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private roomWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private fullWarned = false;
  private failures = 0;
  private closeReport: Promise<S3SpoolCloseReport> | undefined;
  private locked = false;
  /** Entries whose group DuckDB could not merge: sent alone. */
  private readonly unmergeable = new Set<number>();
  private readonly counters = { added: 0, addedBytes: 0, recovered: 0, uploaded: 0, uploadedBytes: 0, objects: 0, errors: 0, fullWaits: 0, waiting: 0, failed: 0 };
  private lastError: string | undefined;
  /** Called after each upload (tests, progress). */
  onUpload: ((r: UploadResult, source: string) => void) | undefined;

  /** Throws a UserError at once for bad options; the spool directory is opened in the background (see ready()). */
  constructor(options: S3Options) {
    this.options = resolveS3Options(options);
    this.uploader = new S3Uploader(this.options);
    this.ready = this.init();
    this.ready.catch(() => undefined); // surfaced by add()/open()/close()
  }

  /** A spool whose directory is open and whose loop runs (user errors, e.g. an unwritable spool dir, throw here). */
  static async open(options: S3Options): Promise<S3Spool> {
    const s = new S3Spool(options);
    try {
      await s.ready;
    } catch (e) {
      s.uploader.destroy();
      if (s.locked) await rm(path.join(s.spoolDir, 'lock'), { force: true });
      throw e;
    }
    return s;
  }

  /** The spool of a validated config's `s3` section (opened), or undefined when s3.bucket is not set. */
  static async fromConfig(c: Config): Promise<S3Spool | undefined> {
    const o = s3OptionsFromConfig(c);
    return o === undefined ? undefined : S3Spool.open(o);
  }

  get spoolDir(): string {
    return this.options.spoolDir;
  }

  private dataPath(seq: number): string {
    return path.join(this.spoolDir, `${seqName(seq)}.data`);
  }
  private manifestPath(seq: number): string {
    return path.join(this.spoolDir, `${seqName(seq)}.json`);
  }

  private async init(): Promise<void> {
    const dir = this.spoolDir;
    try {
      await makeDirs(dir);
    } catch (e) {
      throw new SinkPathError(NAME, dir, describeFsError(e), e);
    }
    await this.lock();
    const names = await readdir(dir);
    // Numbers never repeat, so a new entry never takes the name of one in failed/.
    const failedNames = await readdir(path.join(dir, 'failed')).catch(() => [] as string[]);
    for (const n of [...names, ...failedNames]) {
      const m = /^(\d{12})\./.exec(n);
      if (m) this.nextSeq = Math.max(this.nextSeq, Number(m[1]) + 1);
    }
    const manifests = new Set(names.filter((n) => /^\d{12}\.json$/.test(n)));
    for (const n of names) {
      // Leftovers of an add() that did not finish: its source was never touched.
      if (n.endsWith('.tmp') || (/^\d{12}\.data$/.test(n) && !manifests.has(n.replace('.data', '.json')))) {
        await rm(path.join(dir, n), { force: true });
      }
    }
    for (const n of [...manifests].sort()) {
      const p = path.join(dir, n);
      let e: Entry;
      try {
        e = JSON.parse(await readFile(p, 'utf8')) as Entry;
        if (e.v !== MANIFEST_VERSION || e.seq !== Number(n.slice(0, 12)) || typeof e.key !== 'string' || typeof e.size !== 'number') {
          throw new Error('unexpected content');
        }
        await stat(this.dataPath(e.seq));
      } catch (err) {
        log('error', NAME, `spool entry ${p} is unreadable (${(err as Error).message}); moved to ${path.join(dir, 'failed')}`);
        await this.quarantineFiles(n.slice(0, 12));
        continue;
      }
      this.entries.push(e);
      this.counters.recovered++;
    }
    if (this.entries.length > 0) {
      log('info', NAME, `${this.entries.length} file(s) left in the spool by an earlier run will be uploaded`, { spool: dir, bytes: this.pendingBytes() });
    }
    this.loop = this.run();
  }

  /**
   * One process per spool directory: two would upload and delete the same entries. The lock file
   * holds the owner's pid; one whose process is gone (a crash) is taken over.
   */
  private async lock(): Promise<void> {
    const file = path.join(this.spoolDir, 'lock');
    for (let tries = 0; ; tries++) {
      try {
        const fh = await open(file, 'wx', 0o644);
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        this.locked = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 0) {
          throw new SinkPathError(NAME, this.spoolDir, (e as NodeJS.ErrnoException).code === 'EEXIST' ? 'cannot take its lock file' : describeFsError(e), e);
        }
      }
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      let alive = false;
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch (e) {
          alive = (e as NodeJS.ErrnoException).code === 'EPERM';
        }
      }
      if (alive) throw new SinkPathError(NAME, this.spoolDir, `the spool is in use by process ${pid}${pid === process.pid ? ' (this one: close the other S3Spool first)' : ''}`);
      await rm(file, { force: true }); // its owner is gone
    }
  }

  private pendingBytes(): number {
    let n = 0;
    for (const e of this.entries) n += e.size;
    return n;
  }

  /**
   * Take `localFile` (under output.parquet_dir) for upload. Resolves once it is durable in the
   * spool (fsync'd, renamed into place); waits while the spool is full. Rejects if the spool is
   * closing (the file is then not spooled and left where it is) or the file cannot be read.
   */
  async add(localFile: string): Promise<void> {
    if (this.closing) throw new InternalError(`${NAME}: add(${localFile}) after close()`);
    await this.ready;
    const source = path.resolve(localFile);
    let st;
    try {
      st = await stat(source);
    } catch (e) {
      throw new SinkPathError(NAME, source, describeFsError(e), e);
    }
    if (!st.isFile()) throw new SinkPathError(NAME, source, 'not a regular file');
    const key = objectKey(source, this.options, st.mtimeMs);
    await this.admit(st.size, source);
    const seq = this.nextSeq++;
    const data = this.dataPath(seq);
    let linked = true;
    let size = st.size;
    try {
      try {
        await link(source, data);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw e;
        linked = false;
        await copyFile(source, `${data}.tmp`);
        await rename(`${data}.tmp`, data);
      }
      const fh = await open(data, constants.O_RDONLY);
      try {
        await fh.sync();
        size = (await fh.stat()).size;
      } finally {
        await fh.close();
      }
      const entry: Entry = {
        v: MANIFEST_VERSION, seq, key, source, size, dev: st.dev, ino: st.ino, mtimeMs: st.mtimeMs, linked, addedAt: Date.now(),
      };
      const m = this.manifestPath(seq);
      const fh2 = await open(`${m}.tmp`, 'w', 0o644);
      try {
        await fh2.writeFile(JSON.stringify(entry) + '\n');
        await fh2.sync();
      } finally {
        await fh2.close();
      }
      await rename(`${m}.tmp`, m);
      await fsyncPath(this.spoolDir);
      // Concurrent add()s may finish out of order: keep the queue sorted by seq.
      let i = this.entries.length;
      while (i > 0 && this.entries[i - 1]!.seq > seq) i--;
      this.entries.splice(i, 0, entry);
      this.counters.added++;
      this.counters.addedBytes += size;
    } catch (e) {
      await rm(data, { force: true }).catch(() => undefined);
      await rm(`${data}.tmp`, { force: true }).catch(() => undefined);
      await rm(`${this.manifestPath(seq)}.tmp`, { force: true }).catch(() => undefined);
      throw new SinkWriteError(NAME, source, e);
    } finally {
      this.reservedBytes -= st.size;
      this.reservedFiles--;
      this.notifyIdle();
    }
    this.wakeLoop?.();
  }

  /** Wait until `size` more bytes fit (or the spool is empty), then reserve them. */
  private async admit(size: number, source: string): Promise<void> {
    const max = this.options.spoolMaxBytes;
    let waited = false;
    while (this.pendingBytes() + this.reservedBytes + size > max && this.entries.length + this.reservedFiles > 0) {
      if (this.closing) {
        if (waited) this.counters.waiting--;
        throw new InternalError(`${NAME}: closed while ${source} waited for room in the full spool; it was not spooled and stays where it is`);
      }
      if (!waited) {
        waited = true;
        this.counters.fullWaits++;
        this.counters.waiting++;
        if (!this.fullWarned) {
          this.fullWarned = true;
          log('warn', NAME, `spool full: ${this.entries.length} file(s), ${human(this.pendingBytes())} wait for upload (max ${human(max)}); new files wait — S3 unreachable or too slow?`, {
            spool: this.spoolDir, last_error: this.lastError ?? 'none',
          });
        }
      }
      await new Promise<void>((r) => this.roomWaiters.push(r));
    }
    if (waited) this.counters.waiting--;
    else this.fullWarned = false;
    this.reservedBytes += size;
    this.reservedFiles++;
  }

  /** Take `e` off the queue (by identity: an add() that finished late may have put an older seq before it). */
  private remove(e: Entry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
  }

  private notifyRoom(): void {
    const w = this.roomWaiters;
    this.roomWaiters = [];
    for (const r of w) r();
  }

  private notifyIdle(): void {
    if (this.entries.length > 0 || this.reservedFiles > 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  /** The upload loop: oldest entry first, retried with backoff until it goes (or close() stops it). */
  private async run(): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      let batch: Entry[] = this.entries.length > 0 ? [this.entries[0]!] : [];
      if (batch.length > 0 && this.options.aggregate) {
        const g = nextGroup(this.entries, this.options.aggregateHoldMinutes, (x) => !this.unmergeable.has(x.seq))!;
        const wait = this.closing ? 0 : g.dueAt - Date.now();
        if (wait > 0) {
          // Nothing due yet: sleep until the first group is, or until add()/close() wakes us.
          await new Promise<void>((r) => {
            const t = setTimeout(r, Math.min(wait, 60_000));
            this.wakeLoop = () => {
              clearTimeout(t);
              r();
            };
            if (signal.aborted) this.wakeLoop();
          });
          this.wakeLoop = undefined;
          continue;
        }
        batch = g.entries;
      }
      const e = batch[0];
      if (!e) {
        this.notifyIdle();
        await new Promise<void>((r) => {
          this.wakeLoop = r;
          if (signal.aborted) r();
        });
        this.wakeLoop = undefined;
        continue;
      }
      try {
        const r = await this.send(batch, signal);
        for (const x of batch) {
          await this.retire(x);
          this.remove(x);
          this.counters.uploaded++;
          this.counters.uploadedBytes += x.size;
        }
        this.counters.objects++;
        this.failures = 0;
        log('debug', NAME, `uploaded ${this.uploader.url(e.key)}`, { bytes: r.bytes, parts: r.parts, files: batch.length });
        this.notifyRoom();
        try {
          this.onUpload?.(r, e.source);
        } catch {
          // an observer's bug must not make the loop upload the file again
        }
      } catch (err) {
        if (signal.aborted) break;
        this.failures++;
        this.counters.errors++;
        const msg = err instanceof Error ? err.message : String(err);
        const changed = msg !== this.lastError;
        this.lastError = msg;
        if (err instanceof MergeError) {
          // Files DuckDB cannot merge (schemas differ, not Parquet): sent one by one instead.
          log('warn', NAME, `${msg}; uploading those ${batch.length} files separately`);
          for (const x of batch) this.unmergeable.add(x.seq);
          this.failures = 0;
          continue;
        }
        // A refusal of this file itself (not credentials, bucket or network) would block the queue
        // for good: after a few, the entry moves to failed/ (kept, counted, logged).
        const ownFault = err instanceof S3RequestError || (err as NodeJS.ErrnoException).code === 'ENOENT' || (err instanceof S3UserError && err.s3Code === 'FileChanged');
        if (ownFault && this.failures >= QUARANTINE_AFTER) {
          log('error', NAME, `giving up on ${this.uploader.url(e.key)} after ${this.failures} attempts: ${msg}; kept in ${path.join(this.spoolDir, 'failed')}`);
          for (const x of batch) {
            await this.quarantineFiles(seqName(x.seq)).catch(() => undefined);
            this.remove(x);
            this.counters.failed++;
          }
          this.failures = 0;
          this.notifyRoom();
          continue;
        }
        const delay = backoffDelay(this.failures, Math.max(this.options.backoffMs * 4, 100), this.options.maxBackoffMs);
        if (changed || this.failures === 1 || this.failures % 20 === 0) {
          log(err instanceof S3UserError ? 'error' : 'warn', NAME, `upload of ${this.uploader.url(e.key)} failed (attempt ${this.failures}); retrying in ${(delay / 1000).toFixed(1)} s: ${msg}`, {
            waiting_files: this.entries.length,
          });
        }
        await sleep(delay, signal);
      }
    }
  }

  /** Upload one entry as it is, or several merged into one object under the first one's key. */
  private async send(batch: Entry[], signal: AbortSignal): Promise<UploadResult> {
    const first = batch[0]!;
    if (batch.length === 1) return this.uploader.uploadFile(this.dataPath(first.seq), first.key, first.size, signal);
    const merged = path.join(this.spoolDir, `${seqName(first.seq)}.merge.tmp`);
    try {
      try {
        await mergeParquet(batch.map((x) => this.dataPath(x.seq)), merged);
      } catch (e) {
        throw new MergeError(`cannot merge ${batch.length} files for ${this.uploader.url(first.key)}: ${(e as Error).message.split('\n')[0]}`);
      }
      const size = (await stat(merged)).size;
      return await this.uploader.uploadFile(merged, first.key, size, signal);
    } finally {
      await rm(merged, { force: true });
    }
  }

  /** After its upload: the source (delete_after_upload, if still the same file), then the entry. */
  private async retire(e: Entry): Promise<void> {
    if (this.options.deleteAfterUpload) {
      try {
        const st = await stat(e.source);
        const same = e.linked ? st.ino === e.ino && st.dev === e.dev : st.size === e.size && st.mtimeMs === e.mtimeMs;
        if (same) await unlink(e.source);
        else log('warn', NAME, `not deleting ${e.source} after upload: it was replaced since it was spooled`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          log('warn', NAME, `cannot delete ${e.source} after upload: ${describeFsError(err)}`);
        }
      }
    }
    await unlink(this.manifestPath(e.seq));
    await rm(this.dataPath(e.seq), { force: true });
  }

  private async quarantineFiles(seq: string): Promise<void> {
    const dir = path.join(this.spoolDir, 'failed');
    await mkdir(dir, { recursive: true });
    for (const ext of ['.json', '.data']) {
      await rename(path.join(this.spoolDir, seq + ext), path.join(dir, seq + ext)).catch(() => undefined);
    }
  }

  /** Wait until the spool is empty; false if `timeoutMs` passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    await this.ready;
    if (this.entries.length === 0 && this.reservedFiles === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((r) => this.idleWaiters.push(() => r(true)));
    const timeout = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
    });
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  stats(): S3SpoolStats {
    const u = this.uploader.stats();
    return {
      ...this.counters,
      pending: this.entries.length,
      pendingBytes: this.pendingBytes(),
      retries: u.retries,
      dropped: 0,
      lastError: this.lastError,
    };
  }

  /**
   * Stop taking files, upload what waits for at most `timeoutMs` (default 30 s), then stop the
   * loop (an upload in flight is aborted: no partial object) and report what is left in the spool
   * for the next start. Idempotent.
   */
  close(opts: { timeoutMs?: number } = {}): Promise<S3SpoolCloseReport> {
    this.closeReport ??= this.doClose(opts.timeoutMs ?? 30_000);
    return this.closeReport;
  }

  private async doClose(timeoutMs: number): Promise<S3SpoolCloseReport> {
    this.closing = true;
    this.notifyRoom(); // add()s waiting for room give up
    this.wakeLoop?.(); // groups held for aggregation are due now
    let timedOut = false;
    try {
      await this.ready;
      timedOut = !(await this.drain(timeoutMs));
    } catch {
      // init failed: nothing was spooled by this process
    }
    this.stop.abort();
    this.wakeLoop?.();
    await this.loop;
    this.uploader.destroy();
    if (this.locked) await rm(path.join(this.spoolDir, 'lock'), { force: true });
    const report: S3SpoolCloseReport = {
      pending: this.entries.length, pendingBytes: this.pendingBytes(), uploaded: this.counters.uploaded, timedOut, spoolDir: this.spoolDir,
    };
    if (report.pending > 0) {
      log('warn', NAME, `${report.pending} file(s), ${human(report.pendingBytes)} left in the spool; they upload at the next start`, {
        spool: this.spoolDir, last_error: this.lastError ?? 'none',
      });
    }
    return report;
  }
}
