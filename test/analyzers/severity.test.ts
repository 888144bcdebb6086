// Score → severity per analyzer (sdk SeverityThresholds): the SDK default, an analyzer's own
// `export const severity`, the operator's `severity:` in <name>.yaml over both; thresholds that do
// not rise or name an unknown level keep the analyzer from starting, with the reason. The built-in
// DGA and threat-feed analyzers map their usual scores below CRITICAL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAnalyzers } from '../../analyzers/runtime/index.js';
import { EmbeddedTransport } from '../../streams/embedded/index.js';
import { topicFor, type AlertEvent } from '../../streams/schema.js';
import { severityOf } from '../../analyzers/sdk/index.js';
import * as dga from '../../analyzers/builtin/dga/dga.js';
import * as threatFeed from '../../analyzers/builtin/threat-feed/threat-feed.js';
import { tempDir } from '../helpers.js';
import { flowEvent, publishRows, writeFixtures } from './fixtures.js';

const SCORES = [0.3, 0.6, 0.8, 0.95, 0.999];
const scorer = `export function flow(e: { sport: number }, ctx: any) {
  const s = [${SCORES.join(', ')}][e.sport % ${SCORES.length}];
  ctx.alert({ score: s, reason: 'r' + s, key: 'k' + s });
}\n`;

test('severity: SDK default, the analyzer\'s export, the operator\'s YAML; bad thresholds refused', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir('damselfly-severity-');
  try {
    writeFixtures(dir, {
      'plain.ts': scorer,
      'own.ts': `export const severity = { medium: 0.7, high: 0.9, critical: 0.99 };\n${scorer}`,
      'tuned.ts': `export const severity = { medium: 0.7, high: 0.9, critical: 0.99 };\n${scorer}`,
      'tuned.yaml': 'severity: { critical: 0.9999, high: 0.97 }\n',
      'falling.ts': scorer,
      'falling.yaml': 'severity: { medium: 0.8, high: 0.6 }\n',
      'typo.ts': scorer,
      'typo.yaml': 'severity: { urgent: 0.9 }\n',
    });
    const transport = new EmbeddedTransport({ maxQueued: 4096 });
    const alerts: AlertEvent[] = [];
    const h = await startAnalyzers(transport, { builtins: false, dirs: [dir], watch: false, tickMs: 0, publishAlerts: false, publishStats: false, onAlert: (a) => alerts.push(a) });
    try {
      const st = h.stats();
      assert.equal(st.falling!.state, 'disabled');
      assert.match(st.falling!.lastError ?? '', /falling\.severity: must rise: medium 0\.8 <= high 0\.6/);
      assert.equal(st.typo!.state, 'disabled');
      assert.match(st.typo!.lastError ?? '', /typo\.severity\.urgent: unknown level \(medium, high, critical\)/);
      await publishRows(transport, topicFor('flow'), SCORES.map((_, i) => flowEvent(i, { sport: i })));
      await transport.close();
      await h.idle();
      const sev = (name: string): string[] => SCORES.map((s) => alerts.find((a) => a.analyzer === name && a.score === s)?.severity ?? '-');
      assert.deepEqual(sev('plain'), ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'CRITICAL']);
      assert.deepEqual(sev('own'), ['LOW', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);
      assert.deepEqual(sev('tuned'), ['LOW', 'LOW', 'MEDIUM', 'MEDIUM', 'HIGH']);
    } finally {
      await h.stop();
    }
  } finally {
    cleanup();
  }
});

test('built-ins: a DGA name at the model\'s operating point is MEDIUM; a feed hit at the default score is HIGH', () => {
  assert.equal(severityOf(0.977, dga.severity), 'MEDIUM');
  assert.equal(severityOf(0.9995, dga.severity), 'CRITICAL');
  assert.equal(severityOf(threatFeed.config.score, threatFeed.severity), 'HIGH');
  assert.equal(severityOf(0.97, threatFeed.severity), 'CRITICAL');
});
