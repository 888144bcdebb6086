// `damselfly analyzer check` (analyzers/runtime/typecheck.ts): a misspelled event field is caught
// with its file:line:col before anything runs; the `analyzer new` scaffold checks clean; and the
// scaffold type-checks in a folder outside the repository that only has the package installed
// (node_modules/damselfly → this package: its `exports` give `damselfly/sdk` with types).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, tempDir } from '../helpers.js';

/** The package's own tsc over the project in `dir`. */
function tsc(dir: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8', cwd: dir });
}

test('a misspelled event field is a type problem with its file:line:col; exit 1', () => {
  const t = tempDir();
  try {
    const f = join(t.dir, 'typo.ts');
    writeFileSync(f, `import type { Ctx, DnsEvent } from 'damselfly/sdk';
export function dns(e: DnsEvent, ctx: Ctx) {
  if (e.qname.length > 50) ctx.alert({ score: 0.5, reason: 'long' });
}
`);
    const r = runCli(['analyzer', 'check', f]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`^${f}:3:9: Property 'qname' does not exist on type 'DnsEvent'`, 'm'));
    assert.match(r.stderr, /^damselfly: analyzer typo: 1 type problem\n$/);
  } finally {
    t.cleanup();
  }
});

test('the analyzer new scaffold checks clean; a folder is accepted', () => {
  const t = tempDir();
  try {
    const made = runCli(['analyzer', 'new', 'scaffolded', '--dir', t.dir]);
    assert.equal(made.status, 0, made.stderr);
    const r = runCli(['analyzer', 'check', join(t.dir, 'scaffolded')]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /analyzer scaffolded: no type problems/);
  } finally {
    t.cleanup();
  }
});

test('the scaffold type-checks outside the repository with only the installed package', () => {
  const t = tempDir();
  try {
    const made = runCli(['analyzer', 'new', 'outside', '--dir', t.dir]);
    assert.equal(made.status, 0, made.stderr);
    mkdirSync(join(t.dir, 'node_modules'));
    symlinkSync(ROOT, join(t.dir, 'node_modules', 'damselfly'), 'dir');
    writeFileSync(join(t.dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: [], skipLibCheck: true, allowImportingTsExtensions: true },
      include: ['outside/*.ts'],
    }));
    writeFileSync(join(t.dir, 'package.json'), '{"type":"module"}\n');
    const ok = tsc(t.dir);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    // And a typo is caught there too (the types are real, not `any`).
    writeFileSync(join(t.dir, 'outside', 'typo.ts'), `import type { FlowEvent } from 'damselfly/sdk';\nexport function flow(e: FlowEvent) { return e.sbytez; }\n`);
    const bad = tsc(t.dir);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /typo\.ts\(2,\d+\): error TS2551: Property 'sbytez' does not exist on type 'FlowEvent'/);
  } finally {
    t.cleanup();
  }
});
