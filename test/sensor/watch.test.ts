// Watch mode (sensor/src/watch.ts): rotated capture files dropped into a directory while `run
// --watch` runs, a restart in between, give the same flows in Parquet as one plain run over the
// same files; each file is read once (the state file remembers them across the restart); a file
// that changes after it was read is reported, not read twice; --watch with --live or stdin is
// refused. Real processes, real signals, DuckDB reads the Parquet.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateCapture } from '../../synth/index.js';
import { CLI, assertOneLineError, runCli, tempDir } from '../helpers.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function stateLines(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).length : 0;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function watch(args: string[]): { p: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const p = spawn(process.execPath, ['--no-node-snapshot', CLI, 'run', '--watch', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { p, stderr: () => err, exit: new Promise((r) => p.on('close', (code) => r(code))) };
}

/** Drops `src` into the watched folder the way rotation does: written elsewhere, renamed in. */
function drop(src: string, dir: string, name: string): void {
  copyFileSync(src, join(dir, `.${name}.part`));
  renameSync(join(dir, `.${name}.part`), join(dir, name));
}

async function flows(glob: string): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const rows = (await c.runAndReadAll(`SELECT flowid, spkts, dpkts, sbytes, dbytes, stime::VARCHAR AS s, etime::VARCHAR AS e FROM read_parquet('${glob}') ORDER BY flowid`)).getRowObjectsJson();
    return rows.map((r) => JSON.stringify(r));
  } finally {
    c.closeSync();
  }
}

describe('run --watch', { timeout: 300_000 }, () => {
  const t = tempDir('damselfly-watch-');
  const parts: string[] = [];
  before(async () => {
    for (let s = 1; s <= 3; s++) {
      const out = join(t.dir, `part${s}.pcap`);
      // An hour apart: separate rotations.
      await generateCapture({ out, packets: 6000, seed: 30 + s, truth: false, startTime: 1_768_471_200_000_000 + s * 3600e6 });
      parts.push(out);
    }
  });
  after(() => t.cleanup());

  it('files added while running and after a restart: the same flows as a plain run, each file once', async () => {
    const dir = join(t.dir, 'spool');
    mkdirSync(dir);
    const state = join(t.dir, 'state.jsonl');
    const out = join(t.dir, 'watched');
    const args = ['-i', dir, '--watch-state', state, '--watch-settle', '1', '--parquet-dir', out, '--no-builtin-analyzers'];

    drop(parts[0]!, dir, 'cap-1.pcap');
    const a = watch(args);
    await until(() => stateLines(state) === 1, 60_000, 'cap-1 read');
    drop(parts[1]!, dir, 'cap-2.pcap');
    await until(() => stateLines(state) === 2, 60_000, 'cap-2 read');
    a.p.kill('SIGTERM');
    assert.equal(await a.exit, 0, a.stderr());
    assert.match(a.stderr(), /summary: .*files=2 /);

    // Restart: the two files read before are not read again; a file added now is.
    appendFileSync(join(dir, 'cap-1.pcap'), Buffer.alloc(0)); // touch nothing: same size and mtime
    drop(parts[2]!, dir, 'cap-3.pcap');
    const b = watch(args);
    await until(() => stateLines(state) === 3, 60_000, 'cap-3 read');
    b.p.kill('SIGTERM');
    assert.equal(await b.exit, 0, b.stderr());
    assert.match(b.stderr(), /watching .* \(2 files read before/);
    assert.match(b.stderr(), /summary: .*files=1 /);

    const plain = runCli(['run', '-i', join(t.dir, 'part*.pcap'), '--parquet-dir', join(t.dir, 'plain'), '--no-builtin-analyzers']);
    assert.equal(plain.status, 0, plain.stderr);
    const want = await flows(join(t.dir, 'plain', '*', 'v*', '**', '*.parquet'));
    assert.ok(want.length > 100, `flows: ${want.length}`);
    assert.deepEqual(await flows(join(out, '*', 'v*', '**', '*.parquet')), want, 'the same flows (ids, counters, times), each once');
  });

  it('a file that changes after it was read is reported, not read twice', async () => {
    const dir = join(t.dir, 'spool2');
    mkdirSync(dir);
    const state = join(t.dir, 'state2.jsonl');
    drop(parts[0]!, dir, 'a.pcap');
    const w = watch(['-i', dir, '--watch-state', state, '--watch-settle', '1', '--parquet-dir', join(t.dir, 'w2'), '--no-builtin-analyzers']);
    await until(() => stateLines(state) === 1, 60_000, 'a.pcap read');
    appendFileSync(join(dir, 'a.pcap'), readFileSync(parts[1]!).subarray(24, 2000));
    await until(() => /a\.pcap changed after it was read/.test(w.stderr()), 30_000, 'the change reported');
    w.p.kill('SIGTERM');
    assert.equal(await w.exit, 0, w.stderr());
    assert.equal(stateLines(state), 1);
    assert.match(w.stderr(), /summary: .*files=1 /);
  });

  it('--watch with --live or standard input is refused', () => {
    assertOneLineError(runCli(['run', '--watch', '-i', 'eth0', '--live', 'pcap', '--parquet-dir', join(t.dir, 'x')]), /--watch .* does not combine with --live/);
    assertOneLineError(runCli(['run', '--watch', '-i', '-', '--parquet-dir', join(t.dir, 'x')]), /--watch needs a directory or a glob/);
  });
});
