// The damselfly package root (the folder holding package.json), found from this module's own
// location, so it works from the TypeScript sources and from dist/ alike. Modules use it to locate
// their native addons, the analyzer SDK sources, scripts and caches.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InternalError } from './errors.js';

function find(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new InternalError(`cannot locate the damselfly package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Absolute path of the package root. */
export const PACKAGE_ROOT: string = find();

/** `PACKAGE_ROOT/<parts...>`. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
