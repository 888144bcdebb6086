// Finding analyzers and their own files. Two shapes:
//   folder:  DIR/<name>/index.ts or DIR/<name>/<name>.ts — owns DIR/<name>/ (config.yaml, model.json, ...)
//   single:  DIR/<name>.ts — owns DIR/<name>.* and DIR/<name>/ (config: DIR/<name>.yaml)
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface AnalyzerSpec {
  name: string;
  script: string;
  /** Files and folders the analyzer may read (and bundle). */
  roots: string[];
  /** Its YAML config (may not exist). */
  configFile: string;
  /** Single-file analyzers also own `DIR/<name>.*`. */
  siblingPrefix?: string;
  builtin: boolean;
}

export function specForScript(script: string, builtin = false): AnalyzerSpec {
  const abs = path.resolve(script);
  const dir = path.dirname(abs);
  const base = path.basename(abs).replace(/\.(ts|js)$/, '');
  const folder = path.basename(dir);
  if (base === 'index' || base === folder) {
    return { name: folder, script: abs, roots: [dir], configFile: path.join(dir, 'config.yaml'), builtin };
  }
  return {
    name: base,
    script: abs,
    roots: [abs, path.join(dir, base)],
    configFile: path.join(dir, `${base}.yaml`),
    siblingPrefix: path.join(dir, `${base}.`),
    builtin,
  };
}

/** Analyzers in `dir` (both shapes), sorted by name. */
/** The script of a folder analyzer: DIR/<folder>.ts, else DIR/index.ts; undefined when neither exists. */
export function folderScript(dir: string): string | undefined {
  const same = path.join(dir, `${path.basename(path.resolve(dir))}.ts`);
  if (existsSync(same)) return same;
  const idx = path.join(dir, 'index.ts');
  return existsSync(idx) ? idx : undefined;
}

export function discoverAnalyzers(dir: string, builtin = false): AnalyzerSpec[] {
  const out: AnalyzerSpec[] = [];
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isFile() && /\.ts$/.test(ent.name) && !/\.d\.ts$/.test(ent.name) && !/\.test\.ts$/.test(ent.name)) out.push(specForScript(p, builtin));
    else if (ent.isDirectory()) {
      const script = folderScript(p);
      if (script) out.push(specForScript(script, builtin));
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Whether `file` (absolute, symlinks resolved by the caller) is inside one of `roots`. */
export function ownedBy(roots: readonly string[], file: string): boolean {
  for (const r of roots) {
    if (file === r) return true;
    let isDir = false;
    try {
      isDir = statSync(r).isDirectory();
    } catch {
      isDir = !/\.[a-z]+$/i.test(r);
    }
    if (isDir) {
      const rel = path.relative(r, file);
      if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return true;
    }
  }
  return false;
}
