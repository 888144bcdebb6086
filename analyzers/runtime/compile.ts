// Transpile + bundle one analyzer with esbuild into a single script for its isolate. Resolution is
// fenced: the analyzer may import the SDK ('damselfly/sdk') and files inside its own root, nothing
// else — no packages, no Node built-ins, no other analyzer's files (bundling is reading).
//
// Bundles are cached on disk (bundle-cache.ts), keyed by the analyzer and checked against the
// content of every file that went into them: starting the pipeline then costs no esbuild run (and
// not even loading esbuild) unless an analyzer or the SDK changed.
import type { Message, Plugin } from 'esbuild';
import { statSync } from 'node:fs';
import path from 'node:path';
import { cachedBundle, storeBundle } from './bundle-cache.js';
import { PACKAGE_ROOT } from '../../streams/package-root.js';

/** Repo root (works from the sources and from dist/). */
export const REPO_ROOT = PACKAGE_ROOT;

export const SDK_DIR = path.join(REPO_ROOT, 'analyzers', 'sdk');
/** The event table and views the sandbox driver is built on (pure data and functions, no Node APIs). */
export const EVENTS_DIR = path.join(REPO_ROOT, 'streams', 'events');

export class CompileError extends Error {
  constructor(readonly analyzer: string, readonly file: string, readonly line: number, readonly column: number, readonly detail: string) {
    super(`analyzer ${analyzer}: compile error at ${file}:${line}:${column}: ${detail}`);
    this.name = 'CompileError';
  }
}

export interface Compiled {
  code: string;
  /** Source map of `code` (JSON): bundle line/column → the author's file, line, column. */
  map?: string;
  /** Files the bundle was built from, outside the SDK (watched for hot reload). */
  inputs: string[];
}

function within(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function resolveFile(p: string): string | undefined {
  const cands = [p, p.replace(/\.js$/, '.ts'), `${p}.ts`, `${p}.js`, `${p}.json`, path.join(p, 'index.ts')];
  for (const c of cands) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function fence(name: string, roots: string[]): Plugin {
  return {
    name: 'damselfly-fence',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (args.path === 'damselfly/sdk' || args.path === 'damselfly/analyzers/sdk') {
          return { path: path.join(SDK_DIR, 'index.ts') };
        }
        if (!args.path.startsWith('.') && !path.isAbsolute(args.path)) {
          return { errors: [{ text: `cannot import '${args.path}': analyzers run without Node APIs or packages (import 'damselfly/sdk' or own files only)` }] };
        }
        const target = path.resolve(args.resolveDir, args.path);
        const file = resolveFile(target);
        if (!file) return { errors: [{ text: `cannot resolve '${args.path}'` }] };
        const allowed = [SDK_DIR, EVENTS_DIR, ...roots];
        if (!allowed.some((r) => within(r, file) || r === file)) {
          return { errors: [{ text: `cannot import '${args.path}': outside analyzer ${name}'s own files` }] };
        }
        return { path: file };
      });
    },
  };
}

/**
 * Rewrites the bundle locations in an analyzer's error text — `(bundle L:C, L:C, ...)`, the
 * bundle frames of its stack, innermost first — to the first of them in the author's own files:
 * `(at /path/analyzer.ts:LINE:COL)`. Frames in the SDK are skipped (an error raised by an SDK
 * check points at the author's call); without a map, or with no author frame, the text is kept.
 */
export function mapErrorLocation(text: string, map: SourceMapLike | undefined): string {
  if (!map) return text;
  return text.replace(/ \(bundle ((?:\d+:\d+(?:, )?)+)\)/, (whole, list: string) => {
    for (const lc of list.split(', ')) {
      const [l, c] = lc.split(':').map(Number) as [number, number];
      const e = map.findEntry(l - 1, c - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
      if (!e || e.originalSource === undefined || e.originalLine === undefined) continue;
      const file = e.originalSource.startsWith('file://') ? new URL(e.originalSource).pathname : path.resolve(REPO_ROOT, e.originalSource);
      if (within(SDK_DIR, file) || within(EVENTS_DIR, file)) continue;
      return ` (at ${file}:${e.originalLine + 1}:${(e.originalColumn ?? 0) + 1})`;
    }
    return whole;
  });
}

/** What mapErrorLocation needs of node:module's SourceMap. */
export interface SourceMapLike {
  findEntry(line: number, column: number): unknown;
}

function firstLocated(name: string, script: string, msgs: Message[]): CompileError {
  const m = msgs[0]!;
  const loc = m.location;
  return new CompileError(name, loc?.file ? path.resolve(REPO_ROOT, loc.file) : script, loc?.line ?? 0, loc?.column ?? 0, m.text);
}

/** Bundle `script` with the sandbox driver; `roots` are the analyzer's own files/folders. */
export async function compileAnalyzer(name: string, script: string, roots: string[]): Promise<Compiled> {
  const hit = cachedBundle(name, script, roots);
  if (hit) return hit;
  const { build } = await import('esbuild');
  const entry =
    `import { install } from ${JSON.stringify(path.join(SDK_DIR, 'sandbox.ts'))};\n` +
    `import * as mod from ${JSON.stringify(script)};\n` +
    `install(mod);\n`;
  try {
    const r = await build({
      stdin: { contents: entry, resolveDir: path.dirname(script), sourcefile: `${name}-entry.js`, loader: 'js' },
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'neutral',
      target: 'es2022',
      logLevel: 'silent',
      metafile: true,
      sourcemap: 'external',
      outfile: path.join(REPO_ROOT, 'analyzer.js'),
      absWorkingDir: REPO_ROOT,
      plugins: [fence(name, [...roots, script])],
    });
    const all = Object.keys(r.metafile!.inputs)
      .map((f) => path.resolve(REPO_ROOT, f))
      .filter((f) => !f.endsWith('-entry.js'));
    const inputs = all.filter((f) => !within(SDK_DIR, f) && !within(EVENTS_DIR, f));
    const js = r.outputFiles.find((f) => f.path.endsWith('.js'))!;
    const map = r.outputFiles.find((f) => f.path.endsWith('.js.map'));
    const compiled: Compiled = { code: js.text, ...(map ? { map: map.text } : {}), inputs };
    storeBundle(name, script, roots, compiled, all);
    return compiled;
  } catch (e) {
    const errs = (e as { errors?: Message[] }).errors;
    if (errs && errs.length > 0) throw firstLocated(name, script, errs);
    throw e;
  }
}
