// A real single-node Kafka broker per test file (deploy/kafka/kafka.sh): own data dir, free
// loopback port, stopped (and its dir removed) by stop() — call it in an after() hook so it runs
// on failure too. A process 'exit' hook kills a broker the file forgot.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { releaseServerDir, runScript, serverDir } from '../servers.js';

export const KAFKA_SH = join(ROOT, 'deploy', 'kafka', 'kafka.sh');

export interface Broker {
  bootstrap: string;
  dir: string;
  port: number;
  /** Stop the broker, keep its data (for restart()). */
  halt(): Promise<void>;
  /** Start it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stop it and remove its data dir. Idempotent. */
  stop(): Promise<void>;
}

const sh = (args: string[], timeoutMs = 400_000): Promise<{ stdout: string; stderr: string }> => runScript(KAFKA_SH, args, timeoutMs);

export async function startBroker(opts: { sasl?: boolean; port?: number } = {}): Promise<Broker> {
  const dir = serverDir('damselfly-kafka-', 'kafka.pid');
  const args = ['--dir', dir, ...(opts.sasl ? ['--sasl'] : []), ...(opts.port ? ['--port', String(opts.port)] : [])];
  let out;
  try {
    out = await sh(['start', ...args]);
  } catch (e) {
    await sh(['stop', '--dir', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    releaseServerDir(dir);
    throw e;
  }
  const lines = out.stdout.trim().split('\n');
  const bootstrap = lines[lines.length - 1]!;
  const port = Number(bootstrap.split(':')[1]);
  let removed = false;
  return {
    bootstrap,
    dir,
    port,
    halt: async () => {
      await sh(['stop', '--dir', dir]);
    },
    restart: async () => {
      await sh(['start', ...args]);
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

/** A free loopback port (for a broker that starts later). */
export function freePort(): number {
  const r = spawnSync(process.execPath, ['-e', 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

let seq = 0;
/** Unique topic prefix per test, so tests sharing a broker never see each other's events. */
export function uniquePrefix(name: string): string {
  return `t${process.pid}-${Date.now().toString(36)}-${seq++}-${name}`;
}

/**
 * Call in a file's last after() hook: if a client left a socket or retry timer behind (a failed
 * test whose broker is gone), the process would never exit and `node --test` would wait forever.
 * The unref'd timer only fires if something else keeps the process alive; exit keeps the
 * exitCode the test runner set.
 */
export function exitSafetyNet(ms = 15_000): void {
  setTimeout(() => process.exit(), ms).unref();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
