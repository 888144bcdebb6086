// Hot reload under load: editing the script swaps the new version in between batches (no event
// lost or processed twice); a version that does not compile leaves the old one running and the
// compile error names file and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAnalyzers } from '../../analyzers/runtime/index.js';
import { EmbeddedTransport } from '../../streams/embedded/index.js';
import { topicFor, type AlertEvent, type AnalyzerStatsEvent } from '../../streams/schema.js';
import { tempDir } from '../helpers.js';
import { flowEvent, writeFixtures, publishRows } from './fixtures.js';

const version = (v: string) => `import type { Ctx, FlowEvent } from 'damselfly/sdk';
export function flow(e: FlowEvent, ctx: Ctx) { ctx.alert({ score: 0.2, reason: '${v}', key: e.flowid }); }
`;

test('hot reload under load: no event lost or repeated; compile error keeps the old version', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir('damselfly-reload-');
  try {
    writeFixtures(dir, { 'live.ts': version('v1') });
    const transport = new EmbeddedTransport({ maxQueued: 2048 });
    const alerts: AlertEvent[] = [];
    const status: AnalyzerStatsEvent[] = [];
    const h = await startAnalyzers(transport, {
      builtins: false, dirs: [dir], watch: true, tickMs: 0, publishAlerts: false, publishStats: false, maxBatch: 50,
      onAlert: (a) => alerts.push(a), onStats: (s) => status.push(s),
    });
    const topic = topicFor('flow');
    let i = 0;
    const publishUntil = async (cond: () => boolean, max: number) => {
      const t0 = Date.now();
      while (!cond() && Date.now() - t0 < max) {
        await publishRows(transport, topic, Array.from({ length: 50 }, (_, j) => flowEvent(i + j)));
        i += 50;
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    await publishUntil(() => i >= 2000, 20_000);
    writeFileSync(path.join(dir, 'live.ts'), version('v2'));
    await publishUntil(() => h.stats().live!.version >= 2, 20_000);
    assert.equal(h.stats().live!.version, 2, 'the watcher reloaded the edited script');
    await publishUntil(() => false, 300);
    writeFileSync(path.join(dir, 'live.ts'), `${version('v3')}\nexport const broken = ;\n`);
    await publishUntil(() => h.stats().live!.compileErrors >= 1, 20_000);
    await publishUntil(() => false, 300);
    await transport.close();
    const st = h.stats().live!;
    await h.stop();

    assert.equal(st.version, 2, 'broken v3 was not swapped in');
    assert.equal(st.state, 'running');
    assert.match(st.lastError!, /live\.ts:4:\d+: Unexpected ";"/);
    assert.ok(status.some((s) => /reload failed, keeping version 2/.test(s.error ?? '')));
    assert.equal(st.events, i);
    assert.equal(alerts.length, i, 'every event alerted exactly once across the swap');
    assert.equal(new Set(alerts.map((a) => a.flowid)).size, i);
    const firstV2 = alerts.findIndex((a) => a.reason === 'v2');
    assert.ok(firstV2 > 0, 'v2 ran');
    assert.ok(alerts.slice(0, firstV2).every((a) => a.reason === 'v1'));
    assert.ok(alerts.slice(firstV2).every((a) => a.reason === 'v2'), 'no v1 after the swap, no v3 at all');
    // Events reach the analyzer in order: flow ids in publish order.
    assert.deepEqual(alerts.map((a) => a.flowid), Array.from({ length: i }, (_, k) => `flow-${k}`));
  } finally {
    cleanup();
  }
});
