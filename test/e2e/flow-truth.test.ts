// Flow correctness: on generated captures every flow's 5-tuple, per-direction packets and bytes,
// start/end time, flags, VLANs, RTT and end reason match the generator's ground truth exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateCapture, expectedReason, type TruthFlow, type SynthResult } from '../../synth/index.js';
import type { FlowEvent } from '../../streams/schema.js';
import { runCli, tempDir } from '../helpers.js';

const key = (f: { proto: string; saddr: string; sport: number; daddr: string; dport: number; stime: number }): string =>
  `${f.proto} ${f.saddr}:${f.sport} > ${f.daddr}:${f.dport} @${f.stime}`;

function sensorFlows(pcap: string, extra: string[] = []): FlowEvent[] {
  const r = runCli(['sensor', '-i', pcap, '--format', 'jsonl', ...extra]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as FlowEvent)
    .filter((e) => e.type === 'flow' && e.kind === 'end'); // start/update records and L7 events aside
}

function compare(gen: SynthResult, flows: FlowEvent[], idle: number): string[] {
  const got = new Map<string, FlowEvent>();
  const problems: string[] = [];
  for (const f of flows) {
    const k = key(f);
    if (got.has(k)) problems.push(`duplicate flow ${k}`);
    got.set(k, f);
  }
  const fields: (keyof TruthFlow & keyof FlowEvent)[] = [
    'spkts', 'dpkts', 'sbytes', 'dbytes', 'stime', 'etime', 'iflags', 'uflags', 'svlan', 'dvlan', 'rtt',
  ];
  for (const t of gen.flows) {
    const k = key(t);
    const f = got.get(k);
    if (!f) {
      problems.push(`missing flow ${k} (${t.label})`);
      continue;
    }
    got.delete(k);
    for (const name of fields) {
      if (f[name] !== t[name]) problems.push(`${k} (${t.label}): ${name} got ${String(f[name])} want ${String(t[name])}`);
    }
    const reason = expectedReason(t, idle, gen.lastTs);
    if (f.reason !== reason) problems.push(`${k} (${t.label}): reason got ${f.reason} want ${reason}`);
    if (f.dur !== Math.floor((t.etime - t.stime) / 1000)) problems.push(`${k}: dur ${f.dur}`);
  }
  for (const k of got.keys()) problems.push(`unexpected flow ${k}`);
  return problems;
}

for (const [name, packets, idle] of [
  ['default timeouts', 30_000, 300],
  ['short idle timeout', 30_000, 60],
] as const) {
  test(`sensor flows equal the generator's ground truth (${name})`, async () => {
    const t = tempDir();
    try {
      const gen = await generateCapture({ out: join(t.dir, 'g.pcap'), packets, seed: 7 });
      const flows = sensorFlows(gen.path, ['--idle-timeout', String(idle)]);
      const problems = compare(gen, flows, idle);
      assert.deepEqual(problems.slice(0, 30), [], `${problems.length} disagreements`);
      assert.equal(flows.length, gen.flows.length);
      const labels = [...new Set(gen.flows.map((f) => f.label))];
      for (const l of ['dns', 'http', 'tls12', 'tls13', 'icmp', 'vlan', 'frag', 'scan', 'beacon', 'exfil']) {
        assert.ok(labels.some((x) => x.startsWith(l)), `generator mix lacks ${l}: ${labels.join(',')}`);
      }
      // Community ID is present and well formed on every flow.
      for (const f of flows) assert.match(f.community_id, /^1:[A-Za-z0-9+/]{27}=$/);
    } finally {
      t.cleanup();
    }
  });
}

test('max_flows evicts the oldest flows with reason evict and loses no packet', async () => {
  const t = tempDir();
  try {
    const gen = await generateCapture({ out: join(t.dir, 'e.pcap'), packets: 20_000, seed: 3 });
    const flows = sensorFlows(gen.path, ['--max-flows', '16']);
    const evicted = flows.filter((f) => f.reason === 'evict').length;
    assert.ok(evicted > 0, 'some flows must be evicted with a 16-flow table');
    const pk = flows.reduce((a, f) => a + f.spkts + f.dpkts, 0);
    const truthPk = gen.flows.reduce((a, f) => a + f.spkts + f.dpkts, 0);
    assert.equal(pk, truthPk, 'every packet is counted in some flow record');
  } finally {
    t.cleanup();
  }
});
