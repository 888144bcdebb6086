// Runtime errors point at the author's .ts line (analyzers/runtime/compile.ts mapErrorLocation):
// the bundle's source map turns the isolate's stack into file:line:column of the analyzer's own
// files — in the analyzer, in a helper file it imports, and for an SDK check that throws (the
// author's call, not the SDK's line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAnalyzers } from '../../analyzers/runtime/index.js';
import { EmbeddedTransport } from '../../streams/embedded/index.js';
import { topicFor } from '../../streams/schema.js';
import { tempDir } from '../helpers.js';
import { flowEvent, publishRows, writeFixtures } from './fixtures.js';

test('errors in hooks name the author\'s file, line and column', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir('damselfly-srcmap-');
  try {
    writeFixtures(dir, {
      // line 4 throws (column 5: the `throw`)
      'thrower.ts': `import type { FlowEvent } from 'damselfly/sdk';
export function flow(e: FlowEvent) {
  if (e.sport >= 0) {
    throw new Error('boom at line four');
  }
}
`,
      // the helper's line 3 reads a property of undefined
      'usehelper/usehelper.ts': `import { deep } from './helper';
export function flow(e: { sport: number }) {
  deep(e.sport);
}
`,
      'usehelper/helper.ts': `export function deep(n: number): number {
  const o: any = undefined;
  return o.field + n;
}
`,
      // an SDK check (alert needs a reason) throws inside the SDK: the author's call on line 3 is named
      'badalert.ts': `import type { Ctx } from 'damselfly/sdk';
export function flow(_e: unknown, ctx: Ctx) {
  ctx.alert({ score: 0.5, reason: '' });
}
`,
    });
    const transport = new EmbeddedTransport({ maxQueued: 4096 });
    const h = await startAnalyzers(transport, { builtins: false, dirs: [dir], watch: false, tickMs: 0, publishAlerts: false, publishStats: false });
    try {
      await publishRows(transport, topicFor('flow'), [flowEvent(1), flowEvent(2)]);
      await transport.close();
      await h.idle();
      const st = h.stats();
      assert.match(st.thrower!.lastError ?? '', new RegExp(`Error: boom at line four \\(at ${join(dir, 'thrower.ts')}:4:11\\)`));
      assert.match(st.usehelper!.lastError ?? '', new RegExp(`TypeError: .*field.* \\(at ${join(dir, 'usehelper', 'helper.ts')}:3:\\d+\\)`));
      assert.match(st.badalert!.lastError ?? '', new RegExp(`reason must be a non-empty string \\(at ${join(dir, 'badalert.ts')}:3:\\d+\\)`));
    } finally {
      await h.stop();
    }
  } finally {
    cleanup();
  }
});
