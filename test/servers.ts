// What the per-test-file servers (a Kafka broker: test/kafka/harness.ts; MinIO:
// test/sinks/s3/minio.ts) share: running their deploy script, and a private data dir per server
// whose process is killed (pid file) and dir removed when the test process exits, in case a file
// forgot to stop it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `bash script args...`; rejects with the script's stderr. */
export function runScript(script: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  const name = script.split('/').pop();
  return new Promise((resolve, reject) => {
    execFile('bash', [script, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${name} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

const live = new Map<string, string>(); // data dir -> pid file name
process.on('exit', () => {
  for (const [dir, pidName] of live) {
    const pidFile = join(dir, pidName);
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A new data dir for a server whose script writes `<dir>/<pidName>`, cleaned up at exit unless released. */
export function serverDir(prefix: string, pidName: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  live.set(dir, pidName);
  return dir;
}

/** The server was stopped and its dir removed: nothing left for the exit hook. */
export function releaseServerDir(dir: string): void {
  live.delete(dir);
}
