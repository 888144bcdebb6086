// Incremental flow records: every flow yields one `start` (seq 0), `update`s every
// status_interval seconds of packet time with increasing seq and non-decreasing cumulative
// counters, and one `end` with the last seq whose counters equal the generator's ground truth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateCapture } from '../../synth/index.js';
import type { FlowEvent } from '../../streams/schema.js';
import { tempDir } from '../helpers.js';
import { collect } from './collect.js';

const key = (f: { proto: string; saddr: string; sport: number; daddr: string; dport: number; stime: number }): string =>
  `${f.proto} ${f.saddr}:${f.sport} > ${f.daddr}:${f.dport} @${f.stime}`;

test('long-lived flows yield start, several updates and one end with the true counters', async () => {
  const t = tempDir();
  try {
    const interval = 1;
    const gen = await generateCapture({ out: join(t.dir, 'u.pcap'), packets: 20_000, seed: 5 });
    const events = (await collect(gen.path, { statusInterval: interval })).filter((e): e is FlowEvent => e.type === 'flow');
    const byId = new Map<string, FlowEvent[]>();
    for (const e of events) {
      const l = byId.get(e.flowid) ?? [];
      l.push(e);
      byId.set(e.flowid, l);
    }
    const truth = new Map(gen.flows.map((f) => [key(f), f]));
    const problems: string[] = [];
    let longest = 0;
    for (const [id, evs] of byId) {
      const kinds = evs.map((e) => e.kind);
      if (kinds[0] !== 'start' || kinds[kinds.length - 1] !== 'end' || kinds.slice(1, -1).some((k) => k !== 'update')) {
        problems.push(`${id}: kinds ${kinds.join(',')}`);
        continue;
      }
      evs.forEach((e, i) => { if (e.seq !== i) problems.push(`${id}: seq ${e.seq} at ${i}`); });
      for (let i = 1; i < evs.length; i++) {
        const a = evs[i - 1]!, b = evs[i]!;
        for (const c of ['spkts', 'dpkts', 'sbytes', 'dbytes'] as const) if (b[c] < a[c]) problems.push(`${id}: ${c} decreases`);
        if (b.kind === 'update' && b.etime - a.etime < 0) problems.push(`${id}: update time goes back`);
      }
      const end = evs[evs.length - 1]!;
      const tf = truth.get(key(end));
      if (!tf) { problems.push(`${id}: no truth flow`); continue; }
      for (const c of ['spkts', 'dpkts', 'sbytes', 'dbytes'] as const) if (end[c] !== tf[c]) problems.push(`${id}: end ${c} ${end[c]} want ${tf[c]}`);
      // updates: exactly one per interval boundary crossed by a packet, at most one per interval
      const updates = evs.filter((e) => e.kind === 'update');
      const bound = Math.floor((tf.etime - tf.stime) / (interval * 1e6));
      if (updates.length > bound) problems.push(`${id}: ${updates.length} updates for ${bound} intervals`);
      for (const u of updates) if (u.etime - u.stime < interval * 1e6) problems.push(`${id}: update before one interval`);
      longest = Math.max(longest, updates.length);
      if (updates.length >= 3) {
        const last = updates[updates.length - 1]!;
        if (last.spkts > end.spkts || last.dpkts > end.dpkts) problems.push(`${id}: last update above end`);
      }
    }
    assert.deepEqual(problems.slice(0, 30), [], `${problems.length} problems`);
    assert.equal([...byId.values()].filter((l) => l.length > 0).length, gen.flows.length);
    assert.ok(longest >= 3, `no flow with several updates (max ${longest})`);
  } finally {
    t.cleanup();
  }
});

test('status_interval 0 disables updates; start and end remain', async () => {
  const t = tempDir();
  try {
    const gen = await generateCapture({ out: join(t.dir, 'z.pcap'), packets: 5_000, seed: 9 });
    const events = (await collect(gen.path, { statusInterval: 0 })).filter((e): e is FlowEvent => e.type === 'flow');
    assert.equal(events.filter((e) => e.kind === 'update').length, 0);
    assert.equal(events.filter((e) => e.kind === 'start').length, gen.flows.length);
    assert.equal(events.filter((e) => e.kind === 'end').length, gen.flows.length);
    for (const e of events) if (e.kind === 'end') assert.equal(e.seq, 1);
  } finally {
    t.cleanup();
  }
});
