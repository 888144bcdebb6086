// Analyzer bundles are cached on disk and reused only while every file they were built from is
// unchanged: the analyzer's own files and the SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compileAnalyzer } from '../../analyzers/runtime/compile.js';
import { tempDir } from '../helpers.js';
import { writeFixtures } from './fixtures.js';

test('a cached bundle is reused while its files are unchanged and rebuilt when one changes', async () => {
  const cache = tempDir('damselfly-bundles-');
  const src = tempDir('damselfly-analyzer-');
  const before = process.env.DAMSELFLY_CACHE_DIR;
  process.env.DAMSELFLY_CACHE_DIR = cache.dir;
  try {
    writeFixtures(src.dir, {
      'a/a.ts': `import { helper } from './helper.js';\nexport function flow() { helper(); }\n`,
      'a/helper.ts': `export function helper(): number { return 1; }\n`,
    });
    const script = path.join(src.dir, 'a', 'a.ts');
    const roots = [path.join(src.dir, 'a')];
    const first = await compileAnalyzer('a', script, roots);
    assert.equal(readdirSync(cache.dir).length, 1, 'one cache entry written');
    const again = await compileAnalyzer('a', script, roots);
    assert.equal(again.code, first.code);
    assert.deepEqual(again.inputs.sort(), [script, path.join(src.dir, 'a', 'helper.ts')].sort());
    writeFileSync(path.join(src.dir, 'a', 'helper.ts'), `export function helper(): number { return 42; }\n`);
    const changed = await compileAnalyzer('a', script, roots);
    assert.notEqual(changed.code, first.code);
    assert.match(changed.code, /42/, 'the changed helper is in the new bundle');
  } finally {
    if (before === undefined) delete process.env.DAMSELFLY_CACHE_DIR;
    else process.env.DAMSELFLY_CACHE_DIR = before;
    cache.cleanup();
    src.cleanup();
  }
});
