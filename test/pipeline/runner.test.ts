// The runner over the embedded transport on a generated capture: the report counts what the
// sensor read and what the sinks wrote; topics nobody consumes are skipped and counted; stop()
// ends a capture early with every flow flushed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildGraph } from '../../pipeline/graph.js';
import { PROCESS_CONFIG } from '../../pipeline/config.js';
import { startPipeline } from '../../pipeline/runner.js';
import { summaryLine } from '../../pipeline/report.js';
import { defaults, type Config } from '../../streams/config.js';
import { generateCapture } from '../../synth/index.js';
import { tempDir } from '../helpers.js';

const t = tempDir('damselfly-runner-');
const gen = generateCapture({ out: join(t.dir, 'g.pcap'), packets: 20_000, seed: 5, truth: false });

function cfg(over: Record<string, Record<string, string | number | boolean>>): Config {
  const c = defaults(PROCESS_CONFIG);
  for (const [s, kv] of Object.entries(over)) Object.assign(c[s]!, kv);
  return c;
}

test('capture → Parquet: every flow written once, nothing lost, the summary line says so', async () => {
  const g0 = await gen;
  const c = cfg({ input: { source: g0.path }, output: { parquet_dir: join(t.dir, 'a'), verbose: 0 }, analyzers: { builtins: false } });
  const r = await startPipeline(buildGraph(c, { role: 'run' }), c).done;
  assert.equal(r.exitCode, 0);
  assert.equal(r.source?.packets, 20_000);
  assert.equal(r.source?.flows, g0.flows.length);
  assert.deepEqual(r.sinks.map((s) => [s.kind, s.result.rows]), [['parquet', g0.flows.length]]);
  assert.equal(r.lost, 0);
  // Without analyzers the sensor makes no start/update records for the Parquet sink alone (its L7
  // events go to the lake's dns/tls/http datasets: one file each beside the flows' file).
  assert.deepEqual(r.skipped, {});
  assert.equal(r.transport.topics['damselfly.flows']?.published, g0.flows.length);
  assert.match(summaryLine(r), new RegExp(`^summary: packets=20000 bytes=\\d+ flows=${g0.flows.length} files=1 parquet_files=4 parquet_rows=${g0.flows.length} elapsed=`));
});

test('with analyzers: every sensor type is published and consumed; alerts reach the alert sink', async () => {
  const g0 = await gen;
  const c = cfg({ input: { source: g0.path }, output: { parquet_dir: join(t.dir, 'b'), verbose: 0 }, alerts: { file: join(t.dir, 'b.jsonl') } });
  const r = await startPipeline(buildGraph(c, { role: 'run' }), c).done;
  assert.equal(r.exitCode, 0);
  const topics = r.transport.topics;
  for (const t of ['flows', 'dns', 'tls', 'http']) {
    const s = topics[`damselfly.${t}`]!;
    assert.ok(s.published > 0, `${t} published`);
    for (const [g, gs] of Object.entries(s.groups)) assert.equal(gs.delivered, s.published, `${t}: group ${g} got everything`);
  }
  assert.deepEqual(r.skipped, {});
  assert.deepEqual(r.analyzers?.running.sort(), ['dga', 'threat-feed']);
  const alerts = r.sinks.find((s) => s.kind === 'alerts')!;
  const raised = Object.values(r.analyzers!.stats).reduce((a, s) => a + s.alerts, 0);
  assert.equal(alerts.stats.received, raised, 'the alert sink received every alert raised');
});

test('stop() during a capture ends it early: the flows seen so far are flushed and written', async () => {
  // Several read batches (65,536 packets each), so there is a batch to stop after.
  const big = await generateCapture({ out: join(t.dir, 'big.pcap'), packets: 200_000, seed: 6, truth: false });
  const c = cfg({ input: { source: big.path }, output: { parquet_dir: join(t.dir, 'c'), verbose: 0 }, analyzers: { builtins: false } });
  const p = startPipeline(buildGraph(c, { role: 'run' }), c, {
    onProgress: () => p.stop(),
  });
  const r = await p.done;
  assert.equal(r.exitCode, 0);
  assert.ok(r.source!.packets < 200_000 && r.source!.packets > 0, `read ${r.source!.packets} packets`);
  assert.equal(r.sinks[0]!.result.rows, r.source!.flows, 'every flow that was ended (eof included) is in Parquet');
  t.cleanup();
});
