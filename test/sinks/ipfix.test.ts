// `sensor --format ipfix-json` (sinks/jsonl/ipfix.ts): one object per event, in the order of the
// JSONL output, keyed by IPFIX information-element names (IANA, RFC 5103 reverse elements, YAF's
// flow statistics) whose values equal the event's fields; nothing of the event is dropped (every
// field is mapped or kept under `damselfly`); no key holds two JSON types.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateCapture } from '../../synth/index.js';
import { runCli, tempDir } from '../helpers.js';

type Doc = Record<string, unknown>;

const lines = (stdout: string): Doc[] => stdout.trim().split('\n').map((l) => JSON.parse(l) as Doc);

function typeConflicts(docs: Doc[]): string[] {
  const types = new Map<string, Set<string>>();
  const walk = (v: unknown, p: string): void => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, `${p}[]`));
    if (v !== null && typeof v === 'object') return Object.entries(v).forEach(([k, x]) => walk(x, p ? `${p}.${k}` : k));
    const s = types.get(p) ?? new Set<string>();
    s.add(v === null ? 'null' : typeof v);
    types.set(p, s);
  };
  docs.forEach((d) => walk(d, ''));
  return [...types].filter(([, s]) => s.size > 1).map(([p, s]) => `${p}: ${[...s].join('/')}`);
}

const PROTO: Record<string, number> = { TCP: 6, UDP: 17, ICMP: 1, ICMPv6: 58 };
const REASON: Record<string, number> = { idle: 1, active: 2, end: 3, rst: 3, eof: 4, evict: 5 };
/** [event field, element] pairs each direction of a flow maps one to one. */
const PAIRS: [string, string][] = [
  ['sbytes', 'octetTotalCount'], ['dbytes', 'reverseOctetTotalCount'],
  ['spkts', 'packetTotalCount'], ['dpkts', 'reversePacketTotalCount'],
  ['sentropy', 'payloadEntropy'], ['dentropy', 'reversePayloadEntropy'],
  ['ssmallpktcnt', 'smallPacketCount'], ['dlargepktcnt', 'reverseLargePacketCount'],
  ['snonemptypktcnt', 'nonEmptyPacketCount'], ['dfirstnonemptycnt', 'reverseFirstNonEmptyPacketSize'],
  ['smaxpktsize', 'maxPacketSize'], ['dstdevpayload', 'reverseStandardDeviationPayloadLength'],
  ['dur', 'flowDurationMilliseconds'],
];

describe('IPFIX-named JSON output', { timeout: 300_000 }, () => {
  const t = tempDir();
  let plain: Doc[] = [];
  let ipfix: Doc[] = [];
  before(async () => {
    const pcap = join(t.dir, 'mix.pcap');
    await generateCapture({ out: pcap, packets: 40_000, seed: 11, truth: false });
    const a = runCli(['sensor', '-i', pcap, '--format', 'jsonl', '-q']);
    const b = runCli(['sensor', '-i', pcap, '--format', 'ipfix-json', '-q']);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    plain = lines(a.stdout);
    ipfix = lines(b.stdout);
  });
  after(() => t.cleanup());

  it('one object per event, in order; element values equal the event\'s fields', () => {
    assert.equal(ipfix.length, plain.length);
    const seen = new Map<string, number>();
    for (let i = 0; i < plain.length; i++) {
      const e = plain[i]!;
      const d = ipfix[i]!;
      const at = `line ${i + 1}`;
      const dm = d.damselfly as Doc;
      assert.equal(dm.type, e.type, at);
      assert.equal(dm.flowid, e.flowid, at);
      assert.equal(d.observationDomainName, e.obname, at);
      const v6 = String(e.saddr).includes(':');
      assert.equal(d[v6 ? 'sourceIPv6Address' : 'sourceIPv4Address'], e.saddr, at);
      assert.equal(d[v6 ? 'destinationIPv6Address' : 'destinationIPv4Address'], e.daddr, at);
      const icmp = e.proto === 'ICMP' || e.proto === 'ICMPv6';
      if (icmp) {
        assert.equal(d[e.proto === 'ICMP' ? 'icmpTypeCodeIPv4' : 'icmpTypeCodeIPv6'], Number(e.sport) * 256 + Number(e.dport), at);
        assert.equal(d.sourceTransportPort, undefined, at);
      } else {
        assert.equal(d.sourceTransportPort, e.sport, at);
        assert.equal(d.destinationTransportPort, e.dport, at);
      }
      if (e.type === 'flow') {
        assert.equal(Date.parse(String(d.flowStartMilliseconds)), Math.floor(Number(e.stime) / 1000), at);
        assert.equal(Date.parse(String(d.flowEndMilliseconds)), Math.floor(Number(e.etime) / 1000), at);
        assert.equal(String(d.flowStartMicroseconds).slice(-7, -1), String(Number(e.stime) % 1_000_000).padStart(6, '0'), `${at}: µs kept`);
        assert.equal(d.ipVersion, v6 ? 6 : 4, at);
        assert.equal(d.protocolIdentifier, PROTO[String(e.proto)], at);
        for (const [f, el] of PAIRS) assert.equal(d[el], e[f], `${at}: ${el} = ${f}`);
        if (e.proto === 'TCP') {
          assert.equal(d.initialTCPFlags, e.iflags, at);
          assert.equal(d.unionTCPFlags, e.uflags, at);
          assert.equal(d.tcpSequenceNumber, e.stcpseq, at);
          assert.equal(d.reverseTcpSequenceNumber, e.dtcpseq, at);
        } else assert.equal(d.tcpSequenceNumber, undefined, at);
        assert.equal(d.sourceMacAddress, e.smac || undefined, at);
        assert.equal(d.flowEndReason, REASON[String(e.reason)], at);
        assert.equal(dm.kind, e.kind, at);
        assert.equal(dm.reason, e.reason, `${at}: our reason kept (rst and end share flowEndReason 3)`);
      } else {
        assert.equal(Date.parse(String(d.observationTimeMicroseconds)), Math.floor(Number(e.ts) / 1000), at);
      }
      seen.set(String(e.type), (seen.get(String(e.type)) ?? 0) + 1);
    }
    for (const ty of ['flow', 'dns', 'tls', 'http']) assert.ok((seen.get(ty) ?? 0) > 0, `the capture has ${ty} events`);
    assert.ok(plain.some((e) => e.proto === 'ICMP'), 'the capture has ICMP flows');
    assert.ok(plain.some((e) => e.kind === 'end' && e.reason !== ''), 'the capture has end records');
  });

  it('nothing of the event is dropped: each field is mapped, or kept under damselfly, or empty', () => {
    const MAPPED = new Set(['obname', 'v', 'saddr', 'daddr', 'sport', 'dport', 'stime', 'etime', 'dur', 'proto', 'ts',
      ...PAIRS.map(([f]) => f), 'spkts', 'sbytes', 'dpkts', 'dbytes', 'dentropy', 'dsmallpktcnt', 'slargepktcnt', 'dnonemptypktcnt',
      'sfirstnonemptycnt', 'dmaxpktsize', 'sstdevpayload', 'iflags', 'uflags', 'stcpseq', 'dtcpseq', 'svlan', 'dvlan', 'smac', 'dmac']);
    for (let i = 0; i < plain.length; i++) {
      const e = plain[i]!;
      const dm = ipfix[i]!.damselfly as Doc;
      for (const [k, v] of Object.entries(e)) {
        if (MAPPED.has(k) && !(e.type === 'flow' && k === 'ts')) continue;
        if (e.type === 'flow' && k === 'ts') continue; // a flow record's ts is its stime or etime
        assert.deepEqual(dm[k], v, `line ${i + 1}: ${k}`);
      }
    }
  });

  it('no key changes JSON type across the output', () => {
    assert.deepEqual(typeConflicts(ipfix), []);
  });
});
