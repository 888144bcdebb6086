// Hostile analyzers run next to a well-behaved one in one pipeline: each is contained and
// reported, and the good analyzer still sees every event exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAnalyzers } from '../../analyzers/runtime/index.js';
import { EmbeddedTransport } from '../../streams/embedded/index.js';
import { topicFor, type AlertEvent, type AnalyzerStatsEvent } from '../../streams/schema.js';
import { tempDir } from '../helpers.js';
import { flowEvent, writeFixtures, GOOD_ANALYZER, publishRows } from './fixtures.js';

const N = 3000;

test('hostile analyzers are contained; a good analyzer sees every event', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir('damselfly-hostile-');
  try {
    writeFixtures(dir, {
      'good.ts': GOOD_ANALYZER,
      'good.model.json': '{"secret": 42}',
      'requirefs.ts': `const fs = require('fs');\nexport function flow() { fs.readFileSync('/etc/passwd'); }\n`,
      'importother.ts': `import * as g from './good';\nexport function flow() { return g; }\n`,
      'proc.ts': `export function flow() { (globalThis as any).process.exit(3); }\n`,
      'escape.ts': `import type { Ctx } from 'damselfly/sdk';
export function flow(_e: unknown, ctx: Ctx) {
  const g: any = globalThis;
  const viaFn = (Function('return this') as any)();
  const found = [typeof g.process, typeof g.require, typeof g.module, typeof viaFn.process, typeof g.setTimeout, typeof g.fetch, typeof g.__dfHostRead];
  if (found.some((t) => t !== 'undefined')) ctx.alert({ score: 1, reason: 'escaped:' + found.join(',') });
}\n`,
      'loop.ts': `export function flow() { for (;;) {} }\n`,
      'alloc.ts': `const keep: unknown[] = [];\nexport function flow() { for (;;) keep.push(new Array(100000).fill(7)); }\n`,
      'thrower.ts': `export function flow() { throw new Error('boom on every event'); }\n`,
      'garbage.ts': `export function flow() { return () => 1; }\n`,
      'cyclic.ts': `import type { Ctx } from 'damselfly/sdk';\nexport function flow(_e: unknown, ctx: Ctx) { const o: any = {}; o.o = o; ctx.alert({ score: 1, reason: 'x', factors: o }); }\n`,
      'snoop.ts': `import type { Ctx } from 'damselfly/sdk';
export function flow(_e: unknown, ctx: Ctx) {
  for (const f of ['good.model.json', '../' + 'x/good.ts', 'good.ts', '/etc/passwd', 'snoop/../good.ts']) {
    let ok = false;
    try { ctx.files.read(f); ok = true; } catch { /* expected */ }
    if (ok) ctx.alert({ score: 1, reason: 'escaped:read ' + f });
  }
  ctx.files.read('snoop.yaml');
}\n`,
      'snoop.yaml': 'enabled: true\n',
    });
    const transport = new EmbeddedTransport({ maxQueued: 4096 });
    const alerts: AlertEvent[] = [];
    const status: AnalyzerStatsEvent[] = [];
    const h = await startAnalyzers(transport, {
      builtins: false,
      dirs: [dir],
      watch: false,
      tickMs: 0,
      publishAlerts: false,
      publishStats: false,
      maxBatch: 100,
      onAlert: (a) => alerts.push(a),
      onStats: (s) => status.push(s),
      limits: { memoryMb: 16, batchWallMs: 300, batchCpuMs: 300, maxFailures: 3, backoffMs: 5, maxBackoffMs: 50, consecutiveErrors: 20 },
    });
    const topic = topicFor('flow');
    for (let i = 0; i < N; i += 100) {
      await publishRows(transport, topic, Array.from({ length: 100 }, (_, j) => flowEvent(i + j)));
    }
    await transport.close();
    const st = h.stats();
    await h.stop();

    // The good analyzer: every event, once.
    const good = alerts.filter((a) => a.analyzer === 'good');
    assert.equal(st.good!.events, N);
    assert.equal(good.length, N);
    assert.equal(new Set(good.map((a) => a.flowid)).size, N);
    assert.equal(st.good!.state, 'running');
    assert.equal(st.good!.failures, 0);

    // Nothing escaped.
    assert.deepEqual(alerts.filter((a) => a.reason.startsWith('escaped')).map((a) => `${a.analyzer}: ${a.reason}`), []);
    assert.equal(st.escape!.events, N);
    assert.equal(st.snoop!.events, N);
    assert.equal(st.snoop!.eventErrors, 0, st.snoop!.lastError);

    // Compile-time fences.
    assert.equal(st.requirefs!.state, 'disabled');
    assert.match(st.requirefs!.lastError!, /requirefs\.ts:1:\d+: cannot import 'fs'/);
    assert.equal(st.importother!.state, 'disabled');
    assert.match(st.importother!.lastError!, /outside analyzer importother's own files/);

    // Runtime failures: restarted with backoff, then disabled with a clear message.
    const expect: Record<string, RegExp> = {
      proc: /TypeError.*(exit|undefined)/,
      loop: /wall-time budget of 300 ms exceeded/,
      alloc: /memory limit/,
      thrower: /boom on every event/,
      garbage: /returned a value of type function/,
      cyclic: /circular|cyclic/i,
    };
    for (const [name, re] of Object.entries(expect)) {
      const s = st[name]!;
      assert.equal(s.state, 'disabled', `${name} should be disabled (state ${s.state}, error ${s.lastError})`);
      assert.equal(s.failures, 3, name);
      assert.match(s.lastError!, re, name);
      const disabled = status.find((e) => e.analyzer === name && /disabled after 3 failures in a row/.test(e.error ?? ''));
      assert.ok(disabled, `${name}: a stats event reports the disabling`);
      assert.ok(status.some((e) => e.analyzer === name && e.state === 'backoff'), `${name}: restarted with backoff`);
    }
    const ts = transport.stats().topics[topic]!;
    assert.equal(ts.groups['analyzer.good']!.delivered, N);
  } finally {
    cleanup();
  }
});
