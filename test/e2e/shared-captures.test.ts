// Robustness through the whole pipeline: every real capture in ../shared/data (nDPI's 544 and
// tcpdump's 830, many malformed on purpose) goes through `damselfly run` in one glob. The run must
// finish (no crash, hang or internal error), report each damaged file on one line, and write the
// flows of everything it could decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runCli, tempDir, sharedData, missingShared } from '../helpers.js';

for (const rel of ['ndpi/pcap', 'tcpdump']) {
  const dir = sharedData(rel);
  test(`damselfly run over every capture in ../shared/data/${rel}`, { skip: !dir && missingShared(rel), timeout: 600_000 }, async () => {
    const t = tempDir();
    try {
      const files = readdirSync(dir!).filter((f) => /\.(pcap|pcapng|cap)$/.test(f));
      assert.ok(files.length > 100);
      const out = join(t.dir, 'flows');
      const r = runCli(['run', '-i', join(dir!, '*'), '--parquet-dir', out, '--snaplen', '262144'], { timeoutMs: 590_000 });
      assert.ok(r.status === 0 || r.status === 1, `exit ${r.status} signal ${r.signal}\n${r.stderr.slice(-3000)}`);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('error: sensor: '));
      for (const l of errorLines) assert.match(l, new RegExp(`${dir!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[^:]+: `));
      assert.equal(r.status === 1, errorLines.length > 0);
      const summary = r.stderr.split('\n').find((l) => l.startsWith('summary: '))!;
      assert.match(summary, /files=\d+/);
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const rows = (await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${out}/*/v*/**/*.parquet')`)).getRowObjectsJson();
      c.closeSync();
      assert.ok(Number(rows[0]!.n) > 100, `flows written: ${rows[0]!.n}`);
      process.stdout.write(`# ${rel}: ${files.length} files, ${errorLines.length} reported damaged, ${summary}\n`);
    } finally {
      t.cleanup();
    }
  });
}
