// The files a report or check reads: FILE itself, or every file ending in `ext` under a directory
// (sorted; hidden names — writers' temp files — left out). A missing path, or a directory without
// such files, is a UserError naming it.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../streams/errors.js';

export function filesUnder(path: string, ext: string, what: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${path}: no such file or directory`);
  }
  if (st.isFile()) return [path];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(ext)) out.push(p);
    }
  };
  walk(path);
  if (out.length === 0) throw new UserError(`${path}: no ${ext} files of ${what} in this directory`);
  return out.sort();
}
