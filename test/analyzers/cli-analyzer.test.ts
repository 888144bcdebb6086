// `damselfly analyzer new|test`: scaffold an analyzer, replay JSON lines through it, and replay a
// synthetic capture (sensor → dns/tls events) through the built-in DGA analyzer: alerts for the
// planted DGA names only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateCapture } from '../../synth/index.js';
import type { AlertEvent } from '../../streams/schema.js';
import { ROOT, runCli, tempDir } from '../helpers.js';
import { dnsEvent, flowEvent } from './fixtures.js';

test('analyzer new + test --replay events.jsonl', { timeout: 120_000 }, () => {
  const { dir, cleanup } = tempDir('damselfly-cli-an-');
  try {
    const r = runCli(['analyzer', 'new', 'bigflows', '--dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(path.join(dir, 'bigflows', 'bigflows.ts')));
    assert.ok(existsSync(path.join(dir, 'bigflows', 'config.yaml')));
    assert.notEqual(runCli(['analyzer', 'new', 'bigflows', '--dir', dir]).status, 0, 'refuses to overwrite');
    assert.notEqual(runCli(['analyzer', 'new', 'Bad_Name', '--dir', dir]).status, 0);
    const lines = [
      ...Array.from({ length: 50 }, (_, i) => flowEvent(i, { sbytes: i % 10 === 0 ? 20_000_000 : 1000 })),
      dnsEvent(100, `${'a'.repeat(120)}.example.com`),
      dnsEvent(101, 'short.example.com'),
    ];
    const replay = path.join(dir, 'events.jsonl');
    writeFileSync(replay, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const t = runCli(['analyzer', 'test', path.join(dir, 'bigflows', 'bigflows.ts'), '--replay', replay]);
    assert.equal(t.status, 0, t.stderr);
    const alerts = t.stdout.trim().split('\n').map((l) => JSON.parse(l) as AlertEvent);
    assert.equal(alerts.filter((a) => a.reason.startsWith('large flow')).length, 5);
    assert.equal(alerts.filter((a) => a.reason.startsWith('long DNS query')).length, 1);
    assert.ok(alerts.every((a) => a.analyzer === 'bigflows'));
    assert.match(t.stderr, /summary: analyzer=bigflows state=running events: flow=50 dns=2 alerts=6 errors=0 .*replay=\d+ms/);
    // A config override through --config.
    writeFileSync(path.join(dir, 'strict.yaml'), 'min_bytes: 500\n');
    const t2 = runCli(['analyzer', 'test', path.join(dir, 'bigflows', 'bigflows.ts'), '--replay', replay, '--config', path.join(dir, 'strict.yaml'), '--quiet']);
    assert.equal(t2.status, 0, t2.stderr);
    assert.equal(t2.stdout, '');
    assert.match(t2.stderr, /alerts=51 /);
    // Usage errors are one line, exit 2.
    const bad = runCli(['analyzer', 'test', path.join(dir, 'bigflows', 'bigflows.ts')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /needs --replay/);
  } finally {
    cleanup();
  }
});

test('analyzer test --replay capture.pcap: built-in DGA alerts on the planted DGA names only', { timeout: 180_000 }, async () => {
  const { dir, cleanup } = tempDir('damselfly-cli-dga-');
  try {
    const cap = await generateCapture({ out: path.join(dir, 'demo.pcap'), packets: 20000, seed: 11, truth: false });
    const planted = new Set(cap.plantedHosts.dgaDomains);
    assert.ok(planted.size > 0);
    const t = runCli(['analyzer', 'test', path.join(ROOT, 'analyzers', 'builtin', 'dga', 'dga.ts'), '--replay', cap.path]);
    assert.equal(t.status, 0, t.stderr);
    const alerts = t.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AlertEvent);
    const names = alerts.map((a) => (a.factors as { name: string }).name);
    const benign = names.filter((n) => !planted.has(n));
    assert.deepEqual(benign, [], 'no alert for a name the generator did not plant as DGA');
    const hit = new Set(names.filter((n) => planted.has(n)));
    assert.ok(hit.size >= planted.size * 0.8, `alerted on ${hit.size} of ${planted.size} planted DGA names`);
    assert.ok(alerts.every((a) => a.saddr === cap.plantedHosts.dgaHost));
    assert.match(t.stderr, /events: flow=\d+ dns=\d+/);
  } finally {
    cleanup();
  }
});
