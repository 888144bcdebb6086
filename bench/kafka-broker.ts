// Broker for the Kafka benchmarks: `--brokers host:port` uses a running one; otherwise a fresh
// single-node broker is started with deploy/kafka/kafka.sh in a temp dir and stopped at the end.
import { PACKAGE_ROOT } from '../streams/package-root.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  return { bootstrap, stop };
}
