// `mkdir -p` that fails instead of hanging: Node 20's recursive mkdir loops forever (100% CPU) when
// a parent cannot hold directories, e.g. under /proc (mkdir answers ENOENT for a parent that
// exists). This walks down from the deepest existing ancestor and makes each level with a plain
// mkdir, so every refusal comes back as the error it is.
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    try {
      const st = await stat(p);
      if (!st.isDirectory()) throw Object.assign(new Error(`${p}: not a directory`), { code: 'ENOTDIR', path: p });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // made meanwhile by another writer
    }
  }
}
