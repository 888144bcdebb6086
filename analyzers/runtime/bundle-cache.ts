// An on-disk cache of analyzer bundles (compile.ts): the bundle of (name, script, roots) is kept
// with the SHA-256 of every file it was built from — the analyzer's files, the SDK, the event
// table — and used only while all of them are unchanged. Folder: $DAMSELFLY_CACHE_DIR, else
// $XDG_CACHE_HOME/damselfly/analyzers, else ~/.cache/damselfly/analyzers. A cache that cannot be
// read or written is skipped silently: it only saves time.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Compiled } from './compile.js';

/** Bump when the bundling itself changes (options, driver wiring): older entries are then ignored. */
const FORMAT = 2;

function cacheDir(): string {
  if (process.env.DAMSELFLY_CACHE_DIR) return process.env.DAMSELFLY_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'damselfly', 'analyzers');
}

interface Entry {
  format: number;
  code: string;
  /** The bundle's source map (JSON), for error locations in the author's files. */
  map?: string;
  inputs: string[];
  /** Every file of the bundle with its SHA-256. */
  files: [string, string][];
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function entryPath(name: string, script: string, roots: string[]): string {
  return path.join(cacheDir(), `${name}-${sha256(JSON.stringify([FORMAT, name, script, roots])).slice(0, 24)}.json`);
}

export function cachedBundle(name: string, script: string, roots: string[]): Compiled | undefined {
  try {
    const e = JSON.parse(readFileSync(entryPath(name, script, roots), 'utf8')) as Entry;
    if (e.format !== FORMAT) return undefined;
    for (const [file, hash] of e.files) if (sha256(readFileSync(file)) !== hash) return undefined;
    return { code: e.code, inputs: e.inputs, ...(e.map ? { map: e.map } : {}) };
  } catch {
    return undefined;
  }
}

export function storeBundle(name: string, script: string, roots: string[], c: Compiled, files: string[]): void {
  try {
    const e: Entry = { format: FORMAT, code: c.code, ...(c.map ? { map: c.map } : {}), inputs: c.inputs, files: files.map((f) => [f, sha256(readFileSync(f))]) };
    const p = entryPath(name, script, roots);
    mkdirSync(path.dirname(p), { recursive: true });
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(e));
    renameSync(tmp, p);
  } catch {
    /* the cache only saves time */
  }
}
