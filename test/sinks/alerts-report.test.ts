// `damselfly alerts FILE|DIR` (sinks/alerts/report.ts): per-analyzer and per-host sums as a table,
// JSON and CSV, equal to what a hand count of the alerts says; a directory reads every *.jsonl
// under it; a line that is not an alert is named and makes the exit code 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers.js';

function alert(analyzer: string, saddr: string, score: number, severity: string, reason: string, ts: number): string {
  return JSON.stringify({ type: 'alert', v: 1, obname: 'lab', ts, id: `${analyzer}-${saddr}-${ts}`, analyzer, score, severity, reason, factors: {}, key: reason, flowid: '', community_id: '', saddr, daddr: '10.9.9.9', sport: 1, dport: 53 });
}

const T0 = Date.UTC(2026, 10, 28, 12) * 1000;
const ALERTS = [
  alert('dga', '10.0.0.5', 0.99, 'CRITICAL', 'dga name', T0),
  alert('dga', '10.0.0.5', 0.80, 'HIGH', 'dga name', T0 + 1e6),
  alert('dga', '10.0.0.7', 0.95, 'CRITICAL', 'dga name', T0 + 2e6),
  alert('threat-feed', '10.0.0.5', 0.60, 'MEDIUM', 'ip on feed, with "quotes", commas', T0 + 3e6),
];

test('table, json and csv agree with a hand count', () => {
  const t = tempDir();
  try {
    const f = join(t.dir, 'alerts.jsonl');
    writeFileSync(f, ALERTS.join('\n') + '\n');
    const json = runCli(['alerts', f, '--format', 'json']);
    assert.equal(json.status, 0, json.stderr);
    const r = JSON.parse(json.stdout) as { alerts: number; analyzers: { analyzer: string; alerts: number; hosts: number; max_score: number; severities: Record<string, number>; first_ts: number; last_ts: number }[]; hosts: { analyzer: string; saddr: string; alerts: number; max_score: number; top_reason: string }[] };
    assert.equal(r.alerts, 4);
    assert.deepEqual(r.analyzers.map((a) => [a.analyzer, a.alerts, a.hosts, a.max_score]), [['dga', 3, 2, 0.99], ['threat-feed', 1, 1, 0.6]]);
    assert.deepEqual(r.analyzers[0]!.severities, { LOW: 0, MEDIUM: 0, HIGH: 1, CRITICAL: 2 });
    assert.equal(r.analyzers[0]!.first_ts, T0);
    assert.equal(r.analyzers[0]!.last_ts, T0 + 2e6);
    assert.deepEqual(r.hosts.map((h) => [h.analyzer, h.saddr, h.alerts, h.max_score]), [['dga', '10.0.0.5', 2, 0.99], ['dga', '10.0.0.7', 1, 0.95], ['threat-feed', '10.0.0.5', 1, 0.6]]);

    const table = runCli(['alerts', f]);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^4 alerts in 1 file\n/);
    assert.match(table.stdout, /^dga\s+3\s+2\s+0\.99\s+0\s+0\s+1\s+2\s+2026-11-28T12:00:00Z\s+2026-11-28T12:00:02Z$/m);
    assert.match(table.stdout, /^dga\s+10\.0\.0\.5\s+2\s+0\.99\s+dga name$/m);

    const csv = runCli(['alerts', f, '--format', 'csv']);
    assert.equal(csv.status, 0, csv.stderr);
    const lines = csv.stdout.trim().split('\n');
    assert.equal(lines[0], 'analyzer,saddr,alerts,max_score,top_reason,first,last,analyzer_alerts,analyzer_hosts,analyzer_low,analyzer_medium,analyzer_high,analyzer_critical');
    assert.equal(lines.length, 4);
    assert.equal(lines[3], 'threat-feed,10.0.0.5,1,0.6,"ip on feed, with ""quotes"", commas",2026-11-28T12:00:03Z,2026-11-28T12:00:03Z,1,1,0,1,0,0');
  } finally {
    t.cleanup();
  }
});

test('a directory: every *.jsonl under it; a line that is not an alert is named and exits 1', () => {
  const t = tempDir();
  try {
    mkdirSync(join(t.dir, 'a', 'b'), { recursive: true });
    writeFileSync(join(t.dir, 'a', 'one.jsonl'), ALERTS.slice(0, 2).join('\n') + '\n');
    writeFileSync(join(t.dir, 'a', 'b', 'two.jsonl'), `${ALERTS.slice(2).join('\n')}\n{"type":"flow"}\n`);
    writeFileSync(join(t.dir, 'a', 'ignored.txt'), 'not read\n');
    const r = runCli(['alerts', join(t.dir, 'a'), '--format', 'json']);
    assert.equal(r.status, 1);
    assert.equal(JSON.parse(r.stdout).alerts, 4);
    assert.match(r.stderr.trim(), /^damselfly: 1 lines are not alerts \(first at .*two\.jsonl:3\)/);

    const none = runCli(['alerts', join(t.dir, 'nowhere')]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^damselfly: error: .*nowhere: no such file or directory\n$/);
    const bad = runCli(['alerts', join(t.dir, 'a', 'one.jsonl'), '--format', 'xml']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--format xml: unsupported/);
  } finally {
    t.cleanup();
  }
});
