// Broker and data for the Kafka benchmarks: `--brokers host:port` uses a running broker; otherwise
// a fresh single-node broker is started with deploy/kafka/kafka.sh in a temp dir and stopped at the
// end (exit, SIGINT, SIGTERM). flowBatches() makes realistic, varied flow batches (seeded: IPv4/IPv6
// endpoints, TCP/UDP/ICMP, start/update/end, nDPI fields on a third), so that compression and the
// Arrow encoding see data like a sensor's rather than one record repeated.
import { PACKAGE_ROOT } from '../streams/package-root.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBatch } from '../streams/events/batch.js';
import { recordMaker, rng } from './records.js';

export const ROOT = PACKAGE_ROOT;
export const KAFKA_SH = join(ROOT, 'deploy', 'kafka', 'kafka.sh');

export function kafkaClasspath(): string {
  return execFileSync('bash', [KAFKA_SH, 'classpath'], { encoding: 'utf8' }).trim().split('\n').pop()!;
}

export function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

export function withBroker(): { bootstrap: string; stop: () => void } {
  const given = arg('brokers');
  if (given) return { bootstrap: given, stop: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'damselfly-kafka-bench-'));
  const out = execFileSync('bash', [KAFKA_SH, 'start', '--dir', dir], { encoding: 'utf8', env: { ...process.env, KAFKA_HEAP: '1g' } });
  const bootstrap = out.trim().split('\n').pop()!;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    execFileSync('bash', [KAFKA_SH, 'stop', '--dir', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      stop();
      process.exit(130);
    });
  }
  return { bootstrap, stop };
}

/** `count` batches of `rows` varied flow records; a flow's records (same flowid) recur across batches. */
export function flowBatches(count: number, rows: number, seed = 42): EventBatch<'flow'>[] {
  const make = recordMaker(seed);
  const rand = rng(seed + 1);
  const flows = Array.from({ length: Math.max(1, rows >> 1) }, () => make.uuid());
  const out: EventBatch<'flow'>[] = [];
  for (let b = 0; b < count; b++) {
    const recs: Record<string, unknown>[] = [];
    for (let i = 0; i < rows; i++) recs.push(make.flow(b * rows + i, flows[Math.floor(rand() * flows.length)]!));
    out.push(EventBatch.fromRows('flow', recs));
  }
  return out;
}
