// What an analyzer may read — its own files (its folder, or `<name>.*` beside a single-file
// analyzer), the files its operator config grants (`files:`), and granted http(s) URLs, which the
// host fetches (the sandbox has no network) and serves from memory. The only host capability a
// sandbox has. Also the signatures the refresh schedule compares.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { log } from '../../streams/log.js';
import type { OperatorKeys } from './config.js';
import { ownedBy, type AnalyzerSpec } from './discover.js';

function hashText(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class FileGrants {
  /** Granted http(s) URLs: fetched by the host, served by read(). */
  private readonly urls = new Map<string, { text?: string; error?: string; sig: string }>();

  constructor(private readonly spec: AnalyzerSpec) {}

  private get name(): string {
    return this.spec.name;
  }

  /** Reads one of the analyzer's own or granted files (adding it to `watched`), or a fetched URL. */
  read(operator: OperatorKeys, watched: Set<string>, name: string): string {
    if (/^https?:\/\//i.test(name)) {
      if (!operator.files.includes(name)) throw new Error(`cannot read '${name}': URL not granted by analyzer ${this.name}'s files:`);
      const u = this.urls.get(name);
      if (u?.text === undefined) throw new Error(`cannot fetch '${name}': ${u?.error ?? 'not fetched'}`);
      return u.text;
    }
    const base = path.dirname(this.spec.configFile);
    const target = path.resolve(base, name);
    let real: string;
    try {
      real = realpathSync(target);
    } catch {
      throw new Error(`cannot read '${name}': no such file`);
    }
    const grants = operator.files.filter((f) => !/^https?:/.test(f)).map((f) => {
      try {
        return realpathSync(f);
      } catch {
        return f;
      }
    });
    const roots = this.spec.roots.map((r) => {
      try {
        return realpathSync(r);
      } catch {
        return r;
      }
    });
    const sibling = this.spec.siblingPrefix !== undefined && real.startsWith(realpathSync(path.dirname(this.spec.siblingPrefix)) + path.sep + path.basename(this.spec.siblingPrefix));
    if (!ownedBy(roots, real) && !grants.includes(real) && !sibling) {
      throw new Error(`cannot read '${name}': not one of analyzer ${this.name}'s own files`);
    }
    watched.add(real);
    return readFileSync(real, 'utf8');
  }

  /** Fetch granted URLs into the cache (all of them when `force`, else only those never fetched). Returns whether any content changed. */
  async fetchUrls(operator: OperatorKeys, force: boolean): Promise<boolean> {
    let changed = false;
    for (const url of operator.files.filter((f) => /^https?:\/\//i.test(f))) {
      const old = this.urls.get(url);
      if (old && !force) continue;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
        const text = await res.text();
        const sig = `${text.length}:${text.slice(0, 64)}:${text.slice(-64)}:${hashText(text)}`;
        if (!old || old.sig !== sig) changed = true;
        this.urls.set(url, { text, sig });
      } catch (e) {
        const error = (e as Error).message;
        log('warn', `analyzer.${this.name}`, `cannot fetch ${url}: ${error}${old?.text !== undefined ? ' (keeping the last copy)' : ''}`);
        if (old?.text === undefined) this.urls.set(url, { error, sig: '' });
      }
    }
    return changed;
  }
}

/** Size and modification time of each file: what the refresh schedule compares. */
export function fileSignature(files: Iterable<string>): string {
  const parts: string[] = [];
  for (const f of files) {
    try {
      const st = statSync(f);
      parts.push(`${f}:${st.size}:${st.mtimeMs}`);
    } catch {
      parts.push(`${f}:-`);
    }
  }
  return parts.join('|');
}
