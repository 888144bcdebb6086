// s3.aggregate: merge the small Parquet files of one minute into one object before upload (the
// seed's "merge files per minute", fewer and larger objects for Athena/DuckDB to list and open).
//
// Groups: spooled .parquet files whose object keys share a directory (so the same observation,
// tier and hive day) and whose minute is the same — the UTC minute of the date-time in the file
// name (…-YYYYMMDD-HHMMSS…), else of the time the file was added. A group is due
// aggregate_hold_minutes after its minute ends (and after its first file was added), so that files
// of the minute written late still join it; at close() every group is due at once. A group of one
// file is uploaded as it is.
//
// The merge runs in DuckDB (its own threads; already a dependency for reading the lake): rows in
// spool order, zstd, the first file's `damselfly.*` key/value metadata with damselfly.rows set to
// the total and damselfly.aggregated_files to the count. The merged file is a temp file in the
// spool (removed at start if a crash left it); the object takes the earliest file's key; the
// group's entries leave the spool only after the upload, so a crash merges and uploads again.

import path from 'node:path';

const MINUTE_RE = /(?:^|[^0-9])((?:19|20)\d{2})(\d{2})(\d{2})[-_T]?(\d{2})(\d{2})\d{2}(?:[^0-9]|$)/;

/** Epoch ms of the UTC minute a file belongs to: from its name's date-time, else `addedAt`. */
export function minuteOf(key: string, addedAt: number): number {
  const m = MINUTE_RE.exec(path.posix.basename(key));
  if (m) {
    const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
    if (Number.isFinite(t)) return t;
  }
  return Math.floor(addedAt / 60_000) * 60_000;
}

export interface Groupable {
  seq: number;
  key: string;
  addedAt: number;
}

export interface Group<E extends Groupable> {
  /** Entries in seq order. */
  entries: E[];
  /** When the group may be merged and sent (epoch ms). */
  dueAt: number;
}

/**
 * The group to send next: the one due first among the groups of `entries` (ties: the oldest
 * entry); undefined when there are no entries. Files that are not Parquet form groups of one.
 */
export function nextGroup<E extends Groupable>(entries: readonly E[], holdMinutes: number, mergeable: (e: E) => boolean = () => true): Group<E> | undefined {
  const groups = new Map<string, Group<E>>();
  for (const e of entries) {
    const minute = minuteOf(e.key, e.addedAt);
    const id = e.key.endsWith('.parquet') && mergeable(e) ? `${path.posix.dirname(e.key)}\u0000${minute}` : `\u0001${e.seq}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { entries: [], dueAt: 0 }));
    g.entries.push(e);
    // Due `hold` after the minute ends, and never sooner than `hold` after its first file came
    // (files of an old minute — a backlog, a replayed capture — still wait for their siblings).
    g.dueAt = Math.max(g.dueAt, Math.max(minute + 60_000, g.entries[0]!.addedAt) + holdMinutes * 60_000);
  }
  let best: Group<E> | undefined;
  for (const g of groups.values()) {
    if (!best || g.dueAt < best.dueAt || (g.dueAt === best.dueAt && g.entries[0]!.seq < best.entries[0]!.seq)) best = g;
  }
  return best;
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Merge `files` (Parquet, same schema) into `out`, rows in order; returns the row count. */
export async function mergeParquet(files: readonly string[], out: string): Promise<number> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    const list = `[${files.map(sqlString).join(', ')}]`;
    const rowsR = await con.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet(${list}, hive_partitioning = false)`);
    const rows = Number(rowsR.getRows()[0]![0]);
    const kvR = await con.runAndReadAll(
      `SELECT decode(key)::VARCHAR, decode(value)::VARCHAR FROM parquet_kv_metadata(${sqlString(files[0]!)}) WHERE decode(key)::VARCHAR LIKE 'damselfly.%'`,
    );
    const kv = new Map<string, string>(kvR.getRows().map((r) => [String(r[0]), String(r[1])]));
    kv.set('damselfly.rows', String(rows));
    kv.set('damselfly.aggregated_files', String(files.length));
    const kvSql = `{${[...kv].map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ')}}`;
    await con.run('SET preserve_insertion_order = true');
    await con.run(
      `COPY (SELECT * FROM read_parquet(${list}, hive_partitioning = false)) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd, KV_METADATA ${kvSql})`,
    );
    return rows;
  } finally {
    con.closeSync();
    db.closeSync();
  }
}
