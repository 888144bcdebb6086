// Object keys: <prefix>/<path of the file relative to output.parquet_dir>. The Parquet sink's
// paths already hold the hive partition (<observation>/v1/year=YYYY/month=MM/day=DD/<file>), so
// they are kept as they are. With hive_partitioning, a path that has no year=/month=/day=/ gets
// one right before the file name (the seed's s3://bucket/year=2025/month=01/day=28/file), dated
// by the UTC date-time in the file name (…-YYYYMMDD-HHMMSS…), else by the file's mtime (UTC).
import path from 'node:path';
import { InternalError } from '../../streams/errors.js';

const HIVE_RE = /(^|\/)year=\d{4}\/month=\d{2}\/day=\d{2}\//;
const NAME_DATE_RE = /(?:^|[^0-9])((?:19|20)\d{2})(\d{2})(\d{2})[-_T]?\d{6}(?:[^0-9]|$)/;

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** year=YYYY/month=MM/day=DD of a file: from its name when it carries a date, else its mtime. */
export function hivePartitionOf(fileName: string, mtimeMs: number): string {
  const m = NAME_DATE_RE.exec(fileName);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (mo >= 1 && mo <= 12 && d >= 1 && d <= 31) return `year=${y}/month=${pad2(mo)}/day=${pad2(d)}`;
  }
  const t = new Date(mtimeMs);
  return `year=${t.getUTCFullYear()}/month=${pad2(t.getUTCMonth() + 1)}/day=${pad2(t.getUTCDate())}`;
}

/** The object key of `file` (which must be under baseDir). */
export function objectKey(file: string, o: { baseDir: string; prefix: string; hivePartitioning: boolean }, mtimeMs: number): string {
  const rel = path.relative(o.baseDir, path.resolve(file));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new InternalError(`s3: ${file} is not under output.parquet_dir (${o.baseDir}); object keys are paths relative to it`);
  }
  let key = rel.split(path.sep).join('/');
  if (o.hivePartitioning && !HIVE_RE.test(key)) {
    const slash = key.lastIndexOf('/');
    const dir = slash < 0 ? '' : key.slice(0, slash + 1);
    const name = key.slice(slash + 1);
    key = `${dir}${hivePartitionOf(name, mtimeMs)}/${name}`;
  }
  return o.prefix ? `${o.prefix}/${key}` : key;
}
