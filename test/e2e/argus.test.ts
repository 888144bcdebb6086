// Cross-check with Argus, the flow meter peer: on a generated capture Argus and Damselfly report
// the same TCP/UDP flows with the same per-direction packet counts.
//
// Deliberate differences (excluded below, by design):
//  - IP fragments: we reassemble a fragmented datagram and count it once (seeds: "Fragment
//    reassembly"); Argus counts every fragment and keeps fragments in separate records.
//  - Bytes: we count IP bytes (header + payload, IPFIX octetTotalCount); Argus counts frame bytes
//    including the link layer, so bytes are not compared.
//  - QinQ: Argus 3.0.8 does not decode 802.1ad (0x88a8) outer tags and drops those frames; the
//    generator puts its QinQ hosts on outer VLAN 300, so those flows are excluded.
//  - Direction: Argus may flip a flow's direction (it infers the client from SYN / port heuristics);
//    we key both by the unordered endpoint pair and compare counts per endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { generateCapture } from '../../synth/index.js';
import type { FlowEvent } from '../../streams/schema.js';
import { runCli, tempDir, hasCommand } from '../helpers.js';

interface Counts {
  pk: Map<string, number>; // "addr:port" -> packets sent by that endpoint
}

function pairKey(proto: string, a: string, ap: number, b: string, bp: number): string {
  const x = `${a}|${ap}`;
  const y = `${b}|${bp}`;
  return `${proto.toLowerCase()} ${x < y ? `${x} ${y}` : `${y} ${x}`}`;
}

test('Argus reports the same TCP/UDP flows and packet counts', { skip: !hasCommand('argus') && 'argus is not installed (scripts/setup.sh installs argus-server/argus-client)' }, async () => {
  const t = tempDir();
  try {
    const gen = await generateCapture({ out: join(t.dir, 'a.pcap'), packets: 20_000, seed: 11 });
    const excluded = new Set(gen.flows.filter((f) => f.label.startsWith('frag') || f.svlan === 300 || f.dvlan === 300).map((f) => pairKey(f.proto, f.saddr, f.sport, f.daddr, f.dport)));

    const r = runCli(['sensor', '-i', gen.path, '--format', 'jsonl']);
    assert.equal(r.status, 0, r.stderr);
    const ours = new Map<string, Counts>();
    for (const line of r.stdout.split('\n')) {
      if (!line) continue;
      const f = JSON.parse(line) as FlowEvent;
      if (f.type !== 'flow' || f.kind !== 'end') continue; // start/update records and L7 events
      if (f.proto !== 'TCP' && f.proto !== 'UDP') continue;
      const k = pairKey(f.proto, f.saddr, f.sport, f.daddr, f.dport);
      const c = ours.get(k) ?? { pk: new Map() };
      c.pk.set(`${f.saddr}|${f.sport}`, (c.pk.get(`${f.saddr}|${f.sport}`) ?? 0) + f.spkts);
      c.pk.set(`${f.daddr}|${f.dport}`, (c.pk.get(`${f.daddr}|${f.dport}`) ?? 0) + f.dpkts);
      ours.set(k, c);
    }

    const argusFile = join(t.dir, 'a.argus');
    const merged = join(t.dir, 'm.argus');
    const a = spawnSync('argus', ['-r', gen.path, '-w', argusFile], { encoding: 'utf8' });
    assert.equal(a.status, 0, a.stderr);
    const m = spawnSync('racluster', ['-r', argusFile, '-w', merged], { encoding: 'utf8' });
    assert.equal(m.status, 0, m.stderr);
    const ra = spawnSync('ra', ['-nn', '-r', merged, '-c', ',', '-s', 'proto', 'saddr', 'sport', 'daddr', 'dport', 'spkts', 'dpkts', '-', 'tcp or udp'], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    assert.equal(ra.status, 0, ra.stderr);
    const theirs = new Map<string, Counts>();
    for (const line of ra.stdout.split('\n').slice(1)) {
      const [proto, sa, sp, da, dp, spk, dpk] = line.split(',');
      if (!proto || !dp) continue;
      const name = proto === '6' ? 'tcp' : proto === '17' ? 'udp' : proto;
      const k = pairKey(name, sa!, Number(sp), da!, Number(dp));
      if (excluded.has(k)) continue;
      const c = theirs.get(k) ?? { pk: new Map() };
      c.pk.set(`${sa}|${Number(sp)}`, (c.pk.get(`${sa}|${Number(sp)}`) ?? 0) + Number(spk));
      c.pk.set(`${da}|${Number(dp)}`, (c.pk.get(`${da}|${Number(dp)}`) ?? 0) + Number(dpk));
      theirs.set(k, c);
    }
    for (const k of excluded) ours.delete(k);

    const problems: string[] = [];
    for (const [k, c] of ours) {
      const o = theirs.get(k);
      if (!o) {
        problems.push(`argus lacks ${k}`);
        continue;
      }
      for (const [ep, n] of c.pk) if ((o.pk.get(ep) ?? 0) !== n) problems.push(`${k}: ${ep} sent ${n} (ours) vs ${o.pk.get(ep) ?? 0} (argus)`);
    }
    for (const k of theirs.keys()) if (!ours.has(k)) problems.push(`we lack ${k}`);
    assert.ok(ours.size > 100, `expected a few hundred TCP/UDP flows, got ${ours.size}`);
    assert.deepEqual(problems.slice(0, 30), [], `${problems.length} disagreements with Argus out of ${ours.size} flows`);
  } finally {
    t.cleanup();
  }
});
