// Loading the package's native addons (built by scripts/build-native.sh into <folder>/build/Release):
// the sensor core, the Parquet writer, the streams helpers. One place for the path and for the one
// line a missing or stale build gives.
import { createRequire } from 'node:module';
import { InternalError } from './errors.js';
import { packagePath } from './package-root.js';

/** `<parts>/build/Release/<name>.node` in this package. */
export function addonPath(parts: readonly string[], name: string): string {
  return packagePath(...parts, 'build', 'Release', `${name}.node`);
}

/** Requires the addon; an InternalError naming it and the build command when it cannot load. */
export function requireAddon<T>(path: string, what: string): T {
  try {
    return createRequire(import.meta.url)(path) as T;
  } catch (e) {
    throw new InternalError(`cannot load ${what} ${path} (run: npm run build:native): ${(e as Error).message}`, { cause: e });
  }
}
