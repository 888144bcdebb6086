// The native Parquet writer under sanitizers: a stress driver (sinks/parquet/native/test/stress.cc)
// built with ASan+UBSan and with ThreadSanitizer (the compressor thread races the appends) must
// run clean, and DuckDB must read the file it leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { REPO } from '../sensor/helpers.js';

const SRC = join(REPO, 'sinks', 'parquet', 'native');
const OUT = join(REPO, '.cache', 'parquet-sanitizers');

for (const [name, flags] of [
  ['ASan+UBSan', ['-fsanitize=address,undefined', '-fno-sanitize-recover=undefined']],
  ['TSan', ['-fsanitize=thread']],
] as const) {
  test(`Parquet writer stress under ${name}: clean, and DuckDB reads the result`, async () => {
    mkdirSync(OUT, { recursive: true });
    const bin = join(OUT, `stress-${name.replace(/\W/g, '')}`);
    const cc = spawnSync('g++', ['-std=c++17', '-O1', '-g', ...flags, '-o', bin, join(SRC, 'test', 'stress.cc'), join(SRC, 'src', 'writer.cc'), `-I${join(SRC, 'src')}`, '-lzstd', '-lcrypto'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const file = join(OUT, `out-${name.replace(/\W/g, '')}.parquet`);
    const r = spawnSync(bin, [file], { encoding: 'utf8', env: { ...process.env, TSAN_OPTIONS: 'halt_on_error=1', ASAN_OPTIONS: 'detect_leaks=1' } });
    assert.equal(r.status, 0, `${name} reported:\n${r.stderr.slice(0, 4000)}`);
    assert.equal(r.stdout.trim(), 'ok');
    assert.doesNotMatch(r.stderr, /ERROR: (Address|Thread|Leak)Sanitizer|runtime error/);
    const con = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = (await con.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(s)::INTEGER AS s FROM read_parquet('${file}')`)).getRowObjectsJS();
    assert.ok(Number(rows[0]!.n) > 0);
    assert.equal(rows[0]!.n, rows[0]!.s);
  });
}
