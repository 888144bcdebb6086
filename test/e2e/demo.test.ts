// `damselfly demo` end to end: the generated capture goes through sensor → analyzers → sinks; the
// built-in DGA and threat-feed analyzers alert on the planted hosts and on no benign one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertEvent } from '../../streams/schema.js';
import type { SynthResult } from '../../synth/index.js';
import { runCli, tempDir } from '../helpers.js';

test('demo raises DGA and threat-feed alerts for the planted hosts and none for benign ones', async () => {
  const t = tempDir();
  try {
    const out = join(t.dir, 'demo');
    const r = runCli(['demo', '--out', out, '--packets', '40000', '--seed', '3']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /summary: packets=40000 /);
    assert.ok(readdirSync(join(out, 'flows')).length > 0, 'Parquet written');
    const truth = JSON.parse(readFileSync(join(out, 'demo.pcap.truth.json'), 'utf8')) as Pick<SynthResult, 'flows' | 'plantedHosts'>;
    const alerts = readFileSync(join(out, 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AlertEvent);
    const planted = truth.plantedHosts;
    const iocs = new Set([...planted.badIps, planted.beaconC2]);

    const dga = alerts.filter((a) => a.analyzer === 'dga');
    assert.ok(dga.length >= 10, `DGA alerts: ${dga.length}`);
    for (const a of dga) assert.equal(a.saddr, planted.dgaHost, `DGA alert for a benign host: ${JSON.stringify(a)}`);

    const feed = alerts.filter((a) => a.analyzer === 'threat-feed');
    for (const a of feed) assert.ok(iocs.has(a.daddr) || iocs.has(a.saddr), `threat-feed alert without an indicator: ${JSON.stringify(a)}`);
    // Every host that talked to an indicator was alerted on.
    const contacted = new Set(truth.flows.filter((f) => iocs.has(f.daddr)).map((f) => f.saddr));
    assert.ok(contacted.has(planted.beaconHost));
    assert.deepEqual([...new Set(feed.map((a) => a.saddr))].sort(), [...contacted].sort());

    assert.deepEqual([...new Set(alerts.map((a) => a.analyzer))].sort(), ['dga', 'threat-feed']);
  } finally {
    t.cleanup();
  }
});
