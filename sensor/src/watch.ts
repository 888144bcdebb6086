// Watch mode (`--watch`): the capture files of a directory or glob as they are rotated in
// (tcpdump -G/-C, dumpcap ring buffers), each read once, in name order, by one sensor (the flow
// table carries across files). A file is taken once it is closed: a later file exists, or it has
// not changed for `settle` seconds. Files already read are remembered in a state file (one JSON
// line per file: path, size, mtime), so a restart goes on where the last run stopped; a remembered
// file that has since changed is reported (warn), not read twice. Runs until stopped.
import { appendFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { log } from '../../streams/log.js';
import { expandGlob } from './inputs.js';

export interface WatchOptions {
  /** A directory (every file in it) or a glob. */
  source: string;
  /** Seconds without change after which the newest file counts as closed. */
  settleSeconds: number;
  /** How often the directory is listed (ms). */
  pollMs?: number;
  /** The state file; default under $XDG_STATE_HOME/damselfly (~/.local/state/damselfly). */
  stateFile?: string;
}

interface Seen {
  file: string;
  size: number;
  mtimeMs: number;
}

/** The default state file of a watched source (one per source path). */
export function defaultWatchState(source: string): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  const id = createHash('sha256').update(resolve(source)).digest('hex').slice(0, 16);
  return join(base, 'damselfly', `watch-${id}.jsonl`);
}

export class CaptureWatch {
  readonly stateFile: string;
  private readonly done = new Map<string, Seen>();
  private readonly warned = new Set<string>();
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(private readonly o: WatchOptions) {
    this.stateFile = o.stateFile ?? defaultWatchState(o.source);
    let text = '';
    try {
      text = readFileSync(this.stateFile, 'utf8');
    } catch {
      /* first run */
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const s = JSON.parse(line) as Seen;
        if (typeof s.file === 'string') this.done.set(s.file, s);
      } catch {
        log('warn', 'sensor', `watch state ${this.stateFile}: an unreadable line was ignored`);
      }
    }
  }

  /** Files already read (from the state file and this run). */
  get seen(): number {
    return this.done.size;
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Remember `file` as read (after its events were handed on). */
  markDone(file: string): void {
    const st = statSync(file);
    const s: Seen = { file, size: st.size, mtimeMs: st.mtimeMs };
    this.done.set(file, s);
    mkdirSync(dirname(this.stateFile), { recursive: true });
    appendFileSync(this.stateFile, JSON.stringify(s) + '\n');
  }

  private list(): string[] {
    let st;
    try {
      st = statSync(this.o.source);
    } catch {
      st = undefined;
    }
    const pattern = st?.isDirectory() ? join(this.o.source, '*') : this.o.source;
    return expandGlob(pattern).map((f) => resolve(f));
  }

  /** The closed files not read yet, in name order. */
  private ready(): string[] {
    const files = this.list();
    const out: string[] = [];
    const now = Date.now();
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      let st;
      try {
        st = statSync(f);
      } catch {
        continue; // removed meanwhile
      }
      if (!st.isFile()) continue;
      const prev = this.done.get(f);
      if (prev) {
        if ((prev.size !== st.size || prev.mtimeMs !== st.mtimeMs) && !this.warned.has(f)) {
          this.warned.add(f);
          log('warn', 'sensor', `watch: ${f} changed after it was read (size ${prev.size} → ${st.size}); not read again`);
        }
        continue;
      }
      const closed = i < files.length - 1 || now - st.mtimeMs >= this.o.settleSeconds * 1000;
      if (!closed) break; // files are taken in order: the open one holds up the rest
      out.push(f);
    }
    return out;
  }

  /** Each closed, unread file once; ends when stopped. */
  [Symbol.asyncIterator](): AsyncGenerator<string> {
    return this.files();
  }

  private async *files(): AsyncGenerator<string> {
    while (!this.stopped) {
      const ready = this.ready();
      for (const f of ready) {
        if (this.stopped) return;
        yield f;
      }
      if (ready.length === 0) await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, this.o.pollMs ?? 500);
      });
    }
  }
}
