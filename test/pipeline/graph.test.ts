// The declared pipeline: the graph each role builds from a config, its checks (one clear user error
// naming what is missing), and its printed form — all without starting anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, checkGraph, consumed, describeGraph, produced, type PipelineGraph } from '../../pipeline/graph.js';
import { PROCESS_CONFIG } from '../../pipeline/config.js';
import { SINK_KINDS, SINK_KIND_NAMES, type SinkKindSpec } from '../../pipeline/sinks.js';
import { defaults, type Config } from '../../streams/config.js';
import { UserError } from '../../streams/errors.js';
import { EVENT_TYPE_NAMES } from '../../streams/events/table.js';
import { assertOneLineError, runCli } from '../helpers.js';

function cfg(over: Record<string, Record<string, string | number | boolean>> = {}): Config {
  const c = defaults(PROCESS_CONFIG);
  for (const [s, kv] of Object.entries(over)) Object.assign(c[s]!, kv);
  return c;
}

const refused = (f: () => unknown, re: RegExp): void => assert.throws(f, (e: unknown) => e instanceof UserError && re.test(e.message));

test('run: capture → analyzers → Parquet and alerts in one process; without analyzers no alert sink', () => {
  const g = buildGraph(cfg({ input: { source: 'x.pcap' }, output: { parquet_dir: '/tmp/flows', observation: 'edge-1' }, alerts: { file: 'a.jsonl' } }), { role: 'run' });
  assert.equal(g.transport.kind, 'embedded');
  assert.equal(g.source?.kind, 'file');
  assert.equal(g.source?.sensor.observation, 'edge-1');
  assert.deepEqual(g.source?.emits, ['flow', 'dns', 'tls', 'http']);
  assert.deepEqual(g.analyze?.inputs, ['flow', 'dns', 'tls', 'http']);
  assert.deepEqual(g.sinks.map((s) => [s.kind, s.group, s.target]), [['parquet', 'sink.parquet', '/tmp/flows'], ['alerts', 'sink.alerts', 'a.jsonl']]);
  assert.deepEqual(produced(g), ['flow', 'dns', 'tls', 'http', 'alert']);
  assert.deepEqual(consumed(g), ['flow', 'dns', 'tls', 'http', 'alert']);
  assert.equal(
    describeGraph(g),
    [
      'pipeline run over embedded',
      '  source   capture x.pcap (observation edge-1) → damselfly.flows damselfly.dns damselfly.tls damselfly.http',
      '  analyze  built-ins (group analyzer.<name> each) ← damselfly.flows damselfly.dns damselfly.tls damselfly.http → damselfly.alerts',
      '  sink     parquet → /tmp/flows (group sink.parquet) ← damselfly.flows damselfly.dns damselfly.tls damselfly.http damselfly.alerts',
      '  sink     alerts → a.jsonl (group sink.alerts) ← damselfly.alerts',
    ].join('\n'),
  );
  const bare = buildGraph(cfg({ input: { source: 'x.pcap' }, output: { parquet_dir: '/tmp/flows' }, analyzers: { builtins: false } }), { role: 'run' });
  assert.equal(bare.analyze, undefined);
  assert.deepEqual(bare.sinks.map((s) => s.kind), ['parquet']);
  refused(() => buildGraph(cfg({ output: { parquet_dir: '/tmp/f' } }), { role: 'run' }), /run needs an input: -i/);
  refused(() => buildGraph(cfg({ input: { source: 'x.pcap' } }), { role: 'run' }), /parquet sink needs an output directory: --parquet-dir/);
});

test('sensor: prints events without Kafka, publishes with it, both when asked', () => {
  const printing = buildGraph(cfg({ input: { source: 'eth0', live_type: 'afpacket' } }), { role: 'sensor' });
  assert.equal(printing.source?.kind, 'live');
  assert.equal(printing.source?.live?.type, 'afpacket');
  assert.deepEqual(printing.sinks.map((s) => s.kind), ['jsonl']);
  const publishing = buildGraph(cfg({ input: { source: 'x.pcap' }, kafka: { brokers: 'k1:9092,k2:9092' }, transport: { topic_prefix: 'site1' } }), { role: 'sensor' });
  assert.equal(publishing.transport.kind, 'kafka');
  assert.deepEqual(publishing.transport.brokers, ['k1:9092', 'k2:9092']);
  assert.deepEqual(publishing.sinks, []);
  assert.match(describeGraph(publishing), /→ site1\.flows site1\.dns site1\.tls site1\.http/);
  assert.deepEqual(buildGraph(cfg({ input: { source: 'x.pcap' }, kafka: { brokers: 'k:1' } }), { role: 'sensor', print: true }).sinks.map((s) => s.kind), ['jsonl']);
});

test('analyze and sink stages read Kafka; without it, or without an analyzer, they say so', () => {
  const kafka = { kafka: { brokers: '127.0.0.1:9092' } };
  const a = buildGraph(cfg({ ...kafka, analyzers: { dir: './mine', disable: 'dga' }, pipeline: { until_end: true } }), { role: 'analyze' });
  assert.equal(a.source, undefined);
  assert.deepEqual(a.analyze?.dirs, ['./mine']);
  assert.deepEqual(a.analyze?.disable, ['dga']);
  assert.equal(a.untilEnd, true);
  assert.match(describeGraph(a), /analyze {2}built-ins except dga \+ \.\/mine/);
  refused(() => buildGraph(cfg(), { role: 'analyze' }), /damselfly analyze reads its input from Kafka: give --kafka BROKERS/);
  refused(() => buildGraph(cfg({ ...kafka, analyzers: { builtins: false } }), { role: 'analyze' }), /analyze has no analyzer to run/);
  const p = buildGraph(cfg({ ...kafka, output: { parquet_dir: '/data/flows' } }), { role: 'sink', sink: 'parquet' });
  assert.deepEqual(p.sinks.map((s) => [s.kind, s.inputs]), [['parquet', ['flow', 'dns', 'tls', 'http', 'alert']]]);
  const al = buildGraph(cfg({ ...kafka, alerts: { stdout: true } }), { role: 'sink', sink: 'alerts' });
  assert.deepEqual(al.sinks.map((s) => [s.kind, s.target]), [['alerts', 'stdout']]);
  refused(() => buildGraph(cfg(), { role: 'sink', sink: 'alerts' }), /damselfly sink alerts reads its input from Kafka/);
  refused(() => buildGraph(cfg(kafka), { role: 'sink', sink: 'parquet' }), /--parquet-dir/);
});

test('one process: a sink whose input nothing in the process publishes is refused', () => {
  const g: PipelineGraph = {
    role: 'run', transport: { kind: 'embedded', prefix: 'damselfly' }, untilEnd: false,
    sinks: [{ kind: 'alerts', inputs: ['alert'], flowEndsOnly: false, readsL7: false, group: 'sink.alerts', target: 'stdout' }],
  };
  refused(() => checkGraph(g), /sink alerts would receive nothing: nothing in this process publishes alert \(no analyzer runs/);
  checkGraph({ ...g, transport: { kind: 'kafka', prefix: 'damselfly' } }); // another process may publish it
});

test('every sink kind reads event types of the table, with its own group', () => {
  const groups = new Set<string>();
  for (const k of SINK_KIND_NAMES) {
    const spec = SINK_KINDS[k] as SinkKindSpec;
    const inputs = typeof spec.inputs === 'function' ? spec.inputs({}) : spec.inputs;
    assert.ok(inputs.length > 0, `${k} reads something`);
    for (const t of inputs) assert.ok(EVENT_TYPE_NAMES.includes(t), `${k} reads ${t}`);
    groups.add(SINK_KINDS[k].group);
  }
  assert.equal(groups.size, SINK_KIND_NAMES.length);
});

test('--graph prints the pipeline and exits without reading anything; --help shows defaults from the schema', () => {
  const r = runCli(['run', '-i', '/nonexistent/capture.pcap', '--parquet-dir', '/tmp/x', '--graph', '--no-builtin-analyzers']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^pipeline run over embedded\n {2}source {3}capture \/nonexistent\/capture\.pcap/);
  const s = runCli(['sink', 'parquet', '--kafka', '127.0.0.1:1', '--parquet-dir', '/tmp/x', '--graph']);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /sink {5}parquet → \/tmp\/x \(group sink\.parquet\) ← damselfly\.flows/);
  const h = runCli(['run', '--help']);
  assert.match(h.stdout, /--idle-timeout <SECS>\s+Idle timeout\s+\[flow\.idle_timeout, default 300\]/);
  assert.match(h.stdout, /--parquet-batch-size <N>\s+Flows per file\s+\[output\.parquet_batch_size, default 1000000\]/);
  assertOneLineError(runCli(['sink', 'nosuch']), /sink: unknown kind 'nosuch' \(kinds: parquet, alerts\)/);
  assertOneLineError(runCli(['analyze']), /damselfly analyze reads its input from Kafka/);
});
