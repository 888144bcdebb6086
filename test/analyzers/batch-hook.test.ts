// Batch hooks (`flowBatch`, ...): the whole batch at once, columns as typed arrays; alerts about a
// row get that row's flow and endpoints; a throwing batch hook fails its batch's events; exporting
// both the event hook and the batch hook of a type is refused at start. Event views also fetch
// only the fields a hook reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAnalyzers } from '../../analyzers/runtime/index.js';
import { EmbeddedTransport } from '../../streams/embedded/index.js';
import { topicFor, type AlertEvent } from '../../streams/schema.js';
import { tempDir } from '../helpers.js';
import { flowEvent, publishRows, writeFixtures } from './fixtures.js';

test('a batch hook reads columns, alerts on rows; a bad one fails its batch; both hooks at once are refused', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir('damselfly-batchhook-');
  try {
    writeFixtures(dir, {
      'bulk.ts': `import type { Batch, Ctx, FlowEvent } from 'damselfly/sdk';
export function flowBatch(b: Batch<FlowEvent>, ctx: Ctx) {
  const s = b.column<Float64Array>('sbytes');
  const d = b.column<Float64Array>('dbytes');
  let total = 0;
  for (let i = 0; i < b.length; i++) {
    total += s[i]! + d[i]!;
    if (s[i]! > 1000) ctx.alert({ score: 0.8, reason: 'big upload ' + b.str('saddr', i), row: i });
  }
  ctx.score('bytes', total);
  ctx.score('rows', b.length);
  ctx.score('first_dport', b.get(0).dport);
}
`,
      'broken.ts': `import type { Batch, Ctx, FlowEvent } from 'damselfly/sdk';
export function flowBatch(b: Batch<FlowEvent>, ctx: Ctx) {
  ctx.alert({ score: 1, reason: 'x', row: b.length });
}
`,
      'both.ts': `export function flow() {}\nexport function flowBatch() {}\n`,
    });
    const transport = new EmbeddedTransport({ maxQueued: 4096 });
    const alerts: AlertEvent[] = [];
    const h = await startAnalyzers(transport, { builtins: false, dirs: [dir], watch: false, tickMs: 0, publishAlerts: false, publishStats: false, onAlert: (a) => alerts.push(a) });
    try {
      const st = h.stats();
      assert.equal(st.bulk!.state, 'running', st.bulk!.lastError);
      assert.equal(st.both!.state, 'disabled');
      assert.match(st.both!.lastError ?? '', /export either flow\(\) or flowBatch\(\), not both/);
      const rows = Array.from({ length: 500 }, (_, i) => flowEvent(i, { sbytes: i === 7 || i === 300 ? 5000 : 100, dbytes: 10 }));
      await publishRows(transport, topicFor('flow'), rows);
      await transport.close();
      await h.idle();
      const bulk = h.stats().bulk!;
      assert.equal(bulk.events, 500);
      assert.equal(bulk.eventErrors, 0, bulk.lastError);
      assert.equal(bulk.scores.rows!.sum, 500);
      assert.equal(bulk.scores.bytes!.sum, 498 * 110 + 2 * 5010);
      assert.equal(bulk.scores.first_dport!.max, 443);
      const big = alerts.filter((a) => a.analyzer === 'bulk');
      assert.deepEqual(big.map((a) => [a.flowid, a.saddr, a.reason]), [7, 300].map((i) => [rows[i]!.flowid, rows[i]!.saddr, `big upload ${rows[i]!.saddr}`]));
      const broken = h.stats().broken!;
      assert.equal(broken.eventErrors, 500, 'every event of the failed batch counts as failed');
      assert.match(broken.lastError ?? '', /flowBatch: RangeError: alert\(\): row 500 is not a row of this batch \(0\.\.499\)/);
    } finally {
      await h.stop();
    }
  } finally {
    cleanup();
  }
});
