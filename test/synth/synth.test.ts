// Tests of the synthetic capture generator: exact sizes, tshark decoding, per-conversation frame
// counts vs ground truth, L7 truth (SNI, DNS names), determinism, truth semantics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { generateCapture, expectedReason, spanFor, type SynthResult, type TruthFlow } from '../../synth/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damselfly-synth-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

const haveTshark = spawnSync('tshark', ['--version']).status === 0;

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, `tshark ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Count frames by walking the pcap record headers. */
function pcapFrames(file: string): { frames: number; monotonic: boolean; magic: number; linktype: number } {
  const b = fs.readFileSync(file);
  const magic = b.readUInt32LE(0);
  const linktype = b.readUInt32LE(20);
  let off = 24;
  let n = 0;
  let prev = -1;
  let monotonic = true;
  while (off + 16 <= b.length) {
    const ts = b.readUInt32LE(off) * 1e6 + b.readUInt32LE(off + 4);
    if (ts < prev) monotonic = false;
    prev = ts;
    off += 16 + b.readUInt32LE(off + 8);
    n++;
  }
  assert.equal(off, b.length, 'pcap ends on a record boundary');
  return { frames: n, monotonic, magic, linktype };
}

function convKey(a: string, ap: number, b: string, bp: number): string {
  const x = `${a}|${ap}`;
  const y = `${b}|${bp}`;
  return x < y ? `${x}#${y}` : `${y}#${x}`;
}

/** Parse `tshark -q -z conv,tcp|udp`: key → { total, aToB, a }. */
function conversations(file: string, proto: 'tcp' | 'udp'): Map<string, { total: number; aToB: number; a: string; ap: number }> {
  const out = tshark(['-r', file, '-q', '-z', `conv,${proto}`]);
  const m = new Map<string, { total: number; aToB: number; a: string; ap: number }>();
  const re = /^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s/;
  for (const line of out.split('\n')) {
    const g = re.exec(line);
    if (!g) continue;
    const key = convKey(g[1]!, Number(g[2]), g[3]!, Number(g[4]));
    assert.ok(!m.has(key), `duplicate conversation ${key}`);
    m.set(key, { total: Number(g[7]), aToB: Number(g[6]), a: g[1]!, ap: Number(g[2]) });
  }
  return m;
}

function checkTruthSemantics(res: SynthResult): void {
  const keys = new Set<string>();
  for (const f of res.flows) {
    const k = `${f.proto}|${convKey(f.saddr, f.sport, f.daddr, f.dport)}`;
    if (f.proto === 'TCP' || f.proto === 'UDP') {
      assert.ok(!keys.has(k), `5-tuple reused: ${k}`);
      keys.add(k);
    }
    assert.ok(f.spkts >= 1, 'source sent the first packet');
    assert.ok(f.etime >= f.stime);
    assert.ok(f.etime - f.stime < 1800e6, 'flow shorter than the active timeout');
    assert.ok(f.stime >= res.firstTs && f.etime <= res.lastTs);
    if (f.proto === 'TCP') {
      assert.match(f.uflags, /^F?S?R?P?A?U?E?C?$/);
      for (const ch of f.iflags) assert.ok(f.uflags.includes(ch));
      if (f.tcpClose === 'rst') assert.ok(f.uflags.includes('R'));
      if (f.tcpClose === 'fin') assert.ok(f.uflags.includes('F') && !f.uflags.includes('R'));
      if (f.label !== 'scan' && f.label !== 'badip') assert.ok(f.iflags === 'S' || f.iflags === 'SEC', `iflags ${f.iflags}`);
      if (f.rtt > 0) assert.ok(f.spkts >= 2 && f.dpkts >= 1 && f.rtt < 1e6);
      if (f.dpkts > 0 && f.label !== 'scan') assert.ok(f.rtt > 0, 'handshake flows have an rtt');
    } else {
      assert.equal(f.iflags, '');
      assert.equal(f.uflags, '');
      assert.equal(f.rtt, 0);
      assert.equal(f.tcpClose, 'none');
    }
  }
}

async function fullCheck(n: number, seed: number): Promise<SynthResult> {
  const out = path.join(dir, `cap-${n}-${seed}.pcap`);
  const res = await generateCapture({ out, packets: n, seed });
  assert.equal(res.packets, n);
  const pf = pcapFrames(out);
  assert.equal(pf.frames, n);
  assert.equal(pf.magic, 0xa1b2c3d4);
  assert.equal(pf.linktype, 1);
  assert.ok(pf.monotonic, 'timestamps never go backwards');
  assert.equal(res.bytes, fs.statSync(out).size);
  checkTruthSemantics(res);

  const truthFile = JSON.parse(fs.readFileSync(out + '.truth.json', 'utf8')) as { flows: TruthFlow[]; plantedHosts: unknown };
  assert.equal(truthFile.flows.length, res.flows.length);
  assert.deepEqual(truthFile.plantedHosts, res.plantedHosts);

  const labels = new Set(res.flows.map((f) => f.label));
  for (const l of ['dns', 'tls13', 'tls12', 'scan', 'dga', 'beacon', 'exfil', 'badip']) assert.ok(labels.has(l), `label ${l} present`);

  if (!haveTshark) return res;
  const malformed = tshark(['-r', out, '-Y', '_ws.malformed || _ws.expert.severity >= error']).trim();
  assert.equal(malformed, '', 'no malformed packets');
  const badCk = tshark([
    '-r', out,
    '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
    '-Y', 'tcp.checksum.status==0 || udp.checksum.status==0 || ip.checksum.status==0 || icmp.checksum.status==0 || icmpv6.checksum.status==0',
  ]).trim();
  assert.equal(badCk, '', 'all checksums valid');
  const count = tshark(['-r', out, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length;
  assert.equal(count, n);

  for (const proto of ['tcp', 'udp'] as const) {
    const conv = conversations(out, proto);
    const truth = res.flows.filter((f) => f.proto === proto.toUpperCase());
    assert.equal(conv.size, truth.length, `${proto} conversation count`);
    for (const f of truth) {
      const c = conv.get(convKey(f.saddr, f.sport, f.daddr, f.dport));
      assert.ok(c, `${proto} conversation ${f.saddr}:${f.sport} -> ${f.daddr}:${f.dport} present`);
      assert.equal(c.total, f.spkts + f.dpkts, `${proto} frames ${f.saddr}:${f.sport} -> ${f.daddr}:${f.dport} (${f.label})`);
      const fromS = c.a === f.saddr && c.ap === f.sport ? c.aToB : c.total - c.aToB;
      assert.equal(fromS, f.spkts, `${proto} source frames ${f.saddr}:${f.sport}`);
    }
  }

  const snis = new Set(tshark(['-r', out, '-Y', 'tls.handshake.type==1', '-T', 'fields', '-e', 'tls.handshake.extensions_server_name']).split('\n').filter(Boolean));
  const truthSni = new Set(res.flows.filter((f) => f.l7?.sni && f.spkts > 1).map((f) => f.l7!.sni!));
  assert.deepEqual([...snis].sort(), [...truthSni].sort());

  const qnames = new Set(tshark(['-r', out, '-Y', 'dns', '-T', 'fields', '-e', 'dns.qry.name']).split('\n').filter(Boolean));
  const truthQ = new Set(res.flows.filter((f) => f.l7?.dnsQuery).map((f) => f.l7!.dnsQuery!));
  assert.deepEqual([...qnames].sort(), [...truthQ].sort());
  for (const d of res.plantedHosts.dgaDomains) assert.ok(qnames.has(d));

  // Handshake RTT equals Wireshark's initial RTT (SYN → ACK completing the handshake).
  const irtt = tshark(['-r', out, '-Y', 'tcp.flags==0x010 && tcp.analysis.initial_rtt', '-T', 'fields', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.analysis.initial_rtt']);
  const rttBy = new Map<string, number>();
  for (const line of irtt.split('\n').filter(Boolean)) {
    const [s4, s6, sp, dp, v] = line.split('\t');
    const k = `${s4 || s6}|${sp}|${dp}`;
    if (!rttBy.has(k)) rttBy.set(k, Math.round(Number(v) * 1e6));
  }
  let checked = 0;
  for (const f of res.flows) {
    if (f.proto !== 'TCP' || f.rtt === 0) continue;
    const v = rttBy.get(`${f.saddr}|${f.sport}|${f.dport}`);
    assert.equal(v, f.rtt, `rtt of ${f.saddr}:${f.sport}`);
    checked++;
  }
  assert.ok(checked > 0);

  // DNS answers in truth match the A records tshark decodes.
  const ans = tshark(['-r', out, '-Y', 'dns.flags.response==1 && dns.a', '-T', 'fields', '-e', 'dns.qry.name', '-e', 'dns.a']);
  const aBy = new Map<string, Set<string>>();
  for (const line of ans.split('\n').filter(Boolean)) {
    const [q, a] = line.split('\t');
    const s = aBy.get(q!) ?? new Set<string>();
    for (const x of a!.split(',')) s.add(x);
    aBy.set(q!, s);
  }
  for (const f of res.flows) {
    if (f.l7?.dnsQtype !== 1 || !f.l7.dnsAnswers?.length) continue;
    const last = f.l7.dnsAnswers[f.l7.dnsAnswers.length - 1]!;
    assert.ok(aBy.get(f.l7.dnsQuery!)?.has(last), `A answer of ${f.l7.dnsQuery}`);
  }
  return res;
}

test('2k-packet capture decodes cleanly and matches truth', async () => {
  const res = await fullCheck(2000, 7);
  assert.ok(res.flows.some((f) => f.label === 'frag'));
});

test('50k-packet capture decodes cleanly and matches truth', async () => {
  const res = await fullCheck(50_000, 11);
  const labels = new Set(res.flows.map((f) => f.label));
  for (const l of ['http', 'icmp', 'ipv6', 'vlan', 'frag', 'bulk', 'ntp']) assert.ok(labels.has(l), `label ${l}`);
  assert.ok(res.flows.some((f) => f.svlan !== f.dvlan), 'some asymmetric VLAN flows');
  assert.ok(res.flows.some((f) => f.proto === 'ICMPv6'));
  assert.ok(res.flows.some((f) => f.tcpClose === 'none' && f.proto === 'TCP'));
  const exfil = res.flows.find((f) => f.label === 'exfil')!;
  assert.ok(exfil.sbytes > 1_000_000 && exfil.saddr === res.plantedHosts.exfilHost && exfil.daddr === res.plantedHosts.exfilDest);
  const beacons = res.flows.filter((f) => f.label === 'beacon').map((f) => f.stime);
  assert.ok(beacons.length >= 3);
  const gaps = beacons.slice(1).map((t, i) => t - beacons[i]!);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  for (const g of gaps) assert.ok(Math.abs(g - mean) / mean < 0.05, 'beacon jitter is low');
  const span = res.lastTs - res.firstTs;
  assert.ok(span > spanFor(50_000) * 0.9, 'capture spans the planned time');
});

test('exact frame counts for many sizes', async () => {
  for (const n of [1, 2, 3, 10, 57, 199, 200, 201, 1000, 1234, 4321]) {
    const out = path.join(dir, `n${n}.pcap`);
    const res = await generateCapture({ out, packets: n, seed: n, truth: false });
    assert.equal(res.packets, n);
    assert.equal(pcapFrames(out).frames, n, `frames for ${n}`);
    assert.ok(!fs.existsSync(out + '.truth.json'));
    checkTruthSemantics(res);
    // Every frame is accounted for: truth packets + extra IPv4 fragments == frames.
    let tp = 0;
    for (const f of res.flows) tp += f.spkts + f.dpkts;
    const frag = res.flows.filter((f) => f.label === 'frag').length;
    assert.ok(tp <= n && n - tp <= frag * 2, `truth packets ${tp} vs frames ${n}`);
  }
});

test('same seed gives identical bytes; different seed differs', async () => {
  const h = async (seed: number, name: string) => {
    const out = path.join(dir, name);
    await generateCapture({ out, packets: 8000, seed, truth: false });
    return crypto.createHash('sha256').update(fs.readFileSync(out)).digest('hex');
  };
  const a = await h(42, 'd1.pcap');
  const b = await h(42, 'd2.pcap');
  const c = await h(43, 'd3.pcap');
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test('expectedReason follows the sensor close rules', () => {
  const base: TruthFlow = {
    proto: 'TCP', saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 1, dport: 2, spkts: 1, dpkts: 1, sbytes: 40, dbytes: 40,
    stime: 0, etime: 1_000_000, iflags: 'S', uflags: 'SA', svlan: 0, dvlan: 0, rtt: 0, tcpClose: 'none', label: 'x', malicious: false,
  };
  assert.equal(expectedReason({ ...base, tcpClose: 'rst' }, 60, 1e12), 'rst');
  assert.equal(expectedReason({ ...base, tcpClose: 'fin' }, 60, 1e12), 'end');
  assert.equal(expectedReason(base, 60, 1_000_000 + 60e6 + 1), 'idle');
  assert.equal(expectedReason(base, 60, 1_000_000 + 60e6), 'eof');
});
