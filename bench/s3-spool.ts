// The S3 spool against a private local MinIO (deploy/minio/minio.sh): add() latency (hard link +
// fsync + manifest rename + directory fsync) and upload throughput of many small files (single
// PUTs) and of one large file (multipart, 16 MiB parts, 4 in flight). Loopback only: the figures
// are the spool's and the SDK's overhead plus MinIO's disk writes, not a network's.
//
//   npm run build:ts && node dist/bench/s3-spool.js [--small-files 40] [--small-mib 2] [--large-mib 256]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { S3Spool } from '../sinks/s3/spool.js';
import { PACKAGE_ROOT } from '../streams/package-root.js';
import { configureLog } from '../streams/log.js';

const { values } = parseArgs({ options: { 'small-files': { type: 'string', default: '40' }, 'small-mib': { type: 'string', default: '2' }, 'large-mib': { type: 'string', default: '256' } } });
const MiB = 1048576;
const SH = join(PACKAGE_ROOT, 'deploy', 'minio', 'minio.sh');
const work = mkdtempSync(join(tmpdir(), 'damselfly-s3-bench-'));
const sdir = join(work, 'minio');
configureLog({ verbose: 0 });

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

try {
  const endpoint = execFileSync('bash', [SH, 'start', '--dir', sdir, '--bucket', 'bench'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop()!;
  const env = Object.fromEntries(readFileSync(join(sdir, 'credentials'), 'utf8').trim().split('\n').map((l) => l.split('=') as [string, string]));
  const base = join(work, 'flows');
  mkdirSync(base, { recursive: true });
  const o = {
    bucket: 'bench', region: 'us-east-1', endpoint, forcePathStyle: true, baseDir: base, prefix: 'bench', hivePartitioning: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  };

  const n = Number(values['small-files']);
  const size = Number(values['small-mib']) * MiB;
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = join(base, `small-20261128-${String(i).padStart(6, '0')}.parquet`);
    writeFileSync(p, randomBytes(size));
    files.push(p);
  }
  const large = join(base, 'large-20261128-000000.parquet');
  writeFileSync(large, randomBytes(Number(values['large-mib']) * MiB));

  const spool = await S3Spool.open(o);
  const adds: number[] = [];
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const c0 = cpu();
  const t0 = performance.now();
  for (const f of files) {
    const a = performance.now();
    await spool.add(f);
    adds.push(performance.now() - a);
  }
  await spool.drain(600_000);
  const smallS = (performance.now() - t0) / 1000;
  console.log(`small: ${n} files x ${size / MiB} MiB (single PUT): add() p50 ${pct(adds, 50).toFixed(2)} ms, p99 ${pct(adds, 99).toFixed(2)} ms; ` +
    `all uploaded in ${smallS.toFixed(2)} s = ${((n * size) / MiB / smallS).toFixed(1)} MiB/s, ${(n / smallS).toFixed(1)} files/s; our CPU ${(cpu() - c0).toFixed(2)} s`);

  const c1 = cpu();
  const t1 = performance.now();
  await spool.add(large);
  const addLarge = performance.now() - t1;
  await spool.drain(600_000);
  const largeS = (performance.now() - t1) / 1000;
  console.log(`large: 1 file x ${values['large-mib']} MiB (multipart, 16 MiB parts, 4 in flight): add() ${addLarge.toFixed(1)} ms; ` +
    `uploaded in ${largeS.toFixed(2)} s = ${(Number(values['large-mib']) / largeS).toFixed(1)} MiB/s; our CPU ${(cpu() - c1).toFixed(2)} s`);
  const st = spool.stats();
  await spool.close();
  console.log(`stats: uploaded ${st.uploaded}, errors ${st.errors}, retries ${st.retries}, pending ${st.pending}`);
} finally {
  try {
    execFileSync('bash', [SH, 'stop', '--dir', sdir], { stdio: 'ignore' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
