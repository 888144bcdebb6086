// When an analyzer reloads: on a change of the files it is built from or read (fs.watch on their
// folders, debounced), and on its `refresh_s` schedule when a granted URL or a read file changed.
// The reload itself (build the new version, swap it in between two batches) is the runner's.
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { fileSignature } from './grants.js';

export class ReloadWatch {
  private watchers: FSWatcher[] = [];
  private reloadTimer?: NodeJS.Timeout;
  private watchedSig = '';
  private refreshTimer?: NodeJS.Timeout;

  constructor(private readonly reload: () => Promise<unknown>) {}

  /** Watch these files (again only if the set changed); after a change, reload and call `rewatch`. */
  watch(list: Iterable<string>, debounceMs: number, rewatch: () => void): void {
    const files = new Set<string>(list);
    const dirs = new Map<string, Set<string>>();
    for (const f of files) {
      const d = path.dirname(f);
      if (!dirs.has(d)) dirs.set(d, new Set());
      dirs.get(d)!.add(path.basename(f));
    }
    const sig = [...files].sort().join('\n');
    if (sig === this.watchedSig) return;
    this.unwatch();
    this.watchedSig = sig;
    for (const [d, names] of dirs) {
      try {
        const w = fsWatch(d, (_ev, fname) => {
          if (fname && !names.has(String(fname))) return;
          clearTimeout(this.reloadTimer);
          this.reloadTimer = setTimeout(() => {
            void this.reload().then(rewatch);
          }, debounceMs);
        });
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        /* folder gone: nothing to watch */
      }
    }
  }

  /**
   * Every `seconds` (none: no schedule): `fetchChanged()` re-fetches what is fetched and says
   * whether it changed; the files of `watched()` are compared by size and time; a change reloads.
   */
  refresh(seconds: number | undefined, fetchChanged: () => Promise<boolean>, watched: () => string[]): void {
    clearInterval(this.refreshTimer);
    if (!seconds) return;
    let busy = false;
    let sig = fileSignature(watched());
    this.refreshTimer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        const urlsChanged = await fetchChanged();
        const now = fileSignature(watched());
        if (urlsChanged || now !== sig) {
          sig = now;
          await this.reload();
        }
      })().finally(() => (busy = false));
    }, seconds * 1000);
    this.refreshTimer.unref();
  }

  stop(): void {
    clearInterval(this.refreshTimer);
    clearTimeout(this.reloadTimer);
    this.unwatch();
  }

  private unwatch(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
