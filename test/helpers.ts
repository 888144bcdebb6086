// Shared test helpers: repository paths, running the compiled CLI, the ../shared/data folder.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../streams/package-root.js';

export const ROOT = PACKAGE_ROOT;
export const CLI = join(ROOT, 'dist', 'bin', 'damselfly.js');
export const SHARED_DATA = resolve(ROOT, '..', 'shared', 'data');

/** Path under ../shared/data, or undefined (callers skip with a message naming the folder). */
export function sharedData(rel: string): string | undefined {
  const p = join(SHARED_DATA, rel);
  return existsSync(p) ? p : undefined;
}

export function missingShared(rel: string): string {
  return `skipped: ${join(SHARED_DATA, rel)} is absent (third-party test data lives in ../shared/data)`;
}

export function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--no-node-snapshot', CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 300_000,
    maxBuffer: 1 << 30,
    input: opts.input ?? '',
  });
}

export function tempDir(prefix = 'damselfly-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A valid classic pcap file with no packets (the 24-byte global header, Ethernet). */
export function emptyPcap(): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(65535, 16);
  b.writeUInt32LE(1, 20);
  return b;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** A user error at the CLI: non-zero exit, exactly one `damselfly: error:` line matching `pattern`, no stack. */
export function assertOneLineError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.status, 0, 'exit status must be non-zero');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^damselfly: error: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

/** Runs one DuckDB query in a fresh in-memory database; rows as JSON-like objects. */
export async function duckQuery(sql: string): Promise<Record<string, unknown>[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
  }
}
