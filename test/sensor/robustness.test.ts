// Robustness sweeps: every shared capture (nDPI + tcpdump test suites, including deliberately
// malformed ones) through the replay tool, release and ASan/UBSan builds. A crash, hang or
// sanitizer report fails; libpcap refusing a file must be a clean exit status 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NDPI_PCAPS, REPLAY, REPLAY_ASAN, REPO, TCPDUMP_PCAPS } from './helpers.js';

const PER_FILE_TIMEOUT_MS = 60_000;
const WORKERS = 2;

function captures(): string[] {
  const out: string[] = [];
  for (const d of [NDPI_PCAPS, TCPDUMP_PCAPS]) {
    if (!existsSync(d)) continue;
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isFile()) out.push(p);
    }
  }
  return out;
}

interface RunResult { file: string; code: number | null; signal: string | null; stderr: string; timedOut: boolean }

function runOne(bin: string, file: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(bin, [...args, file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.on('data', (d: Buffer) => { if (stderr.length < 20000) stderr += d.toString(); });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, PER_FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ file, code, signal, stderr, timedOut }); });
  });
}

async function sweep(bin: string, files: string[], env: NodeJS.ProcessEnv, args: string[] = []): Promise<RunResult[]> {
  const results: RunResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++]!;
      results.push(await runOne(bin, f, env, args));
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return results;
}

function ensureBuilt(bin: string, args: string[]): void {
  if (!existsSync(bin)) execFileSync('bash', [join(REPO, 'scripts', 'build-native.sh'), ...args], { stdio: 'inherit' });
}

function problems(results: RunResult[], sanitizer: boolean): string[] {
  const bad: string[] = [];
  for (const r of results) {
    const report = sanitizer && /ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer/.test(r.stderr);
    if (r.timedOut || r.signal || r.code === null || r.code > 2 || report) {
      bad.push(`${r.file}: code=${r.code} signal=${r.signal} timeout=${r.timedOut}\n${r.stderr.slice(0, 2000)}`);
    }
  }
  return bad;
}

test('replay (release) survives every shared capture', async (t) => {
  const files = captures();
  if (files.length === 0) { t.skip('captures: /work/shared/data/ndpi absent'); return; }
  ensureBuilt(REPLAY, []);
  const results = await sweep(REPLAY, files, process.env);
  assert.deepEqual(problems(results, false), []);
  // the vast majority must open and decode; refusals are clean one-line errors
  const refused = results.filter((r) => r.code === 1);
  assert.ok(refused.length < files.length / 10, `${refused.length} files refused`);
  for (const r of refused) assert.match(r.stderr, /cannot open capture '.*'/);
});

const SANITIZER_ENV = { ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1' };

test('replay (ASan/UBSan) reports nothing on every shared capture', async (t) => {
  const files = captures();
  if (files.length === 0) { t.skip('captures: /work/shared/data/ndpi absent'); return; }
  ensureBuilt(REPLAY_ASAN, ['--asan']);
  const env = { ...process.env, ...SANITIZER_ENV };
  const results = await sweep(REPLAY_ASAN, files, env);
  assert.equal(results.length, files.length);
  assert.deepEqual(problems(results, true), []);
});

// nDPI on: its engine plus what only runs with it (the TCP fingerprint's option walk over every
// SYN, ndpi_fp at flow end), on nDPI's own captures.
test('replay --ndpi (ASan/UBSan) reports nothing on the nDPI captures', async (t) => {
  const files = captures().filter((f) => f.startsWith(NDPI_PCAPS));
  if (files.length === 0) { t.skip('captures: /work/shared/data/ndpi absent'); return; }
  ensureBuilt(REPLAY_ASAN, ['--asan']);
  const env = { ...process.env, ...SANITIZER_ENV };
  const results = await sweep(REPLAY_ASAN, files, env, ['--ndpi']);
  assert.equal(results.length, files.length);
  assert.deepEqual(problems(results, true), []);
});
