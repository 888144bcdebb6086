// A private MinIO server per test file (deploy/minio/minio.sh): own data dir, free loopback port,
// generated credentials; halt()/restart() keep the data and the port (for outage tests), stop()
// (call it in an after() hook) removes everything. A process 'exit' hook kills a server the file
// forgot. The binary is built by scripts/setup.sh (deploy/minio/minio.sh build, needs Go);
// minioMissing() says why a file skips without it.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../helpers.js';
import { releaseServerDir, runScript, serverDir } from '../../servers.js';

export const MINIO_SH = join(ROOT, 'deploy', 'minio', 'minio.sh');
export const MINIO_BIN = join(ROOT, '.cache', 'tools', 'minio', 'bin', 'minio');

export interface MinioServer {
  endpoint: string;
  port: number;
  dir: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Stop the server, keep its data (for restart()). */
  halt(): Promise<void>;
  /** Start it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stop it and remove its data dir. Idempotent. */
  stop(): Promise<void>;
}

/** Why MinIO tests cannot run here, or undefined when they can. */
export function minioMissing(): string | undefined {
  return existsSync(MINIO_BIN) ? undefined : `skipped: no MinIO binary at ${MINIO_BIN} (build it: bash deploy/minio/minio.sh build, needs Go >= 1.24)`;
}

const sh = (args: string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string }> => runScript(MINIO_SH, args, timeoutMs);

/** Start a private server; `buckets` are created. */
export async function startMinio(opts: { buckets?: string[] } = {}): Promise<MinioServer> {
  const dir = serverDir('damselfly-minio-', 'minio.pid');
  let out;
  try {
    out = await sh(['start', '--dir', dir]);
    for (const b of opts.buckets ?? []) await sh(['start', '--dir', dir, '--bucket', b]);
  } catch (e) {
    await sh(['stop', '--dir', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    releaseServerDir(dir);
    throw e;
  }
  const lines = out.stdout.trim().split('\n');
  const endpoint = lines[lines.length - 1]!;
  const env = Object.fromEntries(
    readFileSync(join(dir, 'credentials'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  let removed = false;
  return {
    endpoint,
    port: Number(new URL(endpoint).port),
    dir,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    halt: async () => {
      await sh(['stop', '--dir', dir]);
    },
    restart: async () => {
      await sh(['start', '--dir', dir]);
    },
    stop: async () => {
      if (removed) return;
      removed = true;
      await sh(['stop', '--dir', dir]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      releaseServerDir(dir);
    },
  };
}
