// Flow lifecycle on crafted captures: TCP end/rst, idle/active timeouts, max_flows eviction,
// ICMP pairing, fragment reassembly, VLAN and the per-flow features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  options, runFiles, writePcap, tcpFrame, tcpSeg, udpFrame, ether, ipv4, icmpMsg, udpDgram, TCP, type Frame,
} from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'dfly-flow-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function pcap(frames: Frame[]): string {
  const p = join(dir, `t${n++}.pcap`);
  writePcap(p, frames);
  return p;
}
const T0 = 1_700_000_000_000_000;

/**
 * The flow id by hand (engine.cc flow_uuid): SHA-1 of the observation, a NUL, the flow key (lower
 * address first, 4 bytes each for IPv4; key ports and protocol, IP version, ICMP echo id 0) and
 * the start time as 8 little-endian bytes; the first 16 bytes as a version-5 UUID.
 */
function expectedFlowId(obs: string, a: string, b: string, pa: number, pb: number, proto: number, stime: number): string {
  const key = Buffer.alloc(16);
  Buffer.from(a.split('.').map(Number)).copy(key, 0);
  Buffer.from(b.split('.').map(Number)).copy(key, 4);
  key.writeUInt16BE(pa, 8);
  key.writeUInt16BE(pb, 10);
  key[12] = proto;
  key[13] = 4;
  const t = Buffer.alloc(8);
  t.writeBigInt64LE(BigInt(stime));
  const d = createHash('sha1').update(Buffer.concat([Buffer.from(obs), Buffer.from([0]), key, t])).digest().subarray(0, 16);
  d[6] = (d[6]! & 0x0f) | 0x50;
  d[8] = (d[8]! & 0x3f) | 0x80;
  const h = d.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
const C = '10.0.0.1', S = '10.0.0.2';

test('TCP handshake, data, FIN both ways and final ACK -> reason end with features', async () => {
  const p = pcap([
    { ts: T0, data: tcpFrame(C, S, 40000, 80, TCP.S, 100) },
    { ts: T0 + 1000, data: tcpFrame(S, C, 80, 40000, TCP.S | TCP.A, 900) },
    { ts: T0 + 2500, data: tcpFrame(C, S, 40000, 80, TCP.A, 101) },
    { ts: T0 + 3000, data: tcpFrame(C, S, 40000, 80, TCP.P | TCP.A, 101, Buffer.alloc(100, 0x41)) },
    { ts: T0 + 4000, data: tcpFrame(S, C, 80, 40000, TCP.P | TCP.A, 901, Buffer.alloc(300, 0x42)) },
    { ts: T0 + 5000, data: tcpFrame(C, S, 40000, 80, TCP.F | TCP.A, 201) },
    { ts: T0 + 6000, data: tcpFrame(S, C, 80, 40000, TCP.F | TCP.A, 1201) },
    { ts: T0 + 7000, data: tcpFrame(C, S, 40000, 80, TCP.A, 202) },
    // after the close and its linger (Sensor::kCloseLinger, 2 s): a stray packet starts a new flow
    { ts: T0 + 7000 + 2_500_000, data: tcpFrame(S, C, 80, 40000, TCP.A, 1202) },
  ]);
  const { flows } = await runFiles([p]);
  assert.equal(flows.length, 2);
  const f = flows[0]!;
  assert.equal(f.reason, 'end');
  assert.equal(f.proto, 'TCP');
  assert.equal(f.saddr, C); assert.equal(f.daddr, S);
  assert.equal(f.sport, 40000); assert.equal(f.dport, 80);
  assert.equal(f.spkts, 5); assert.equal(f.dpkts, 3);
  assert.equal(f.sbytes, 40 * 5 + 100); assert.equal(f.dbytes, 40 * 3 + 300);
  assert.equal(f.rtt, 2500);
  assert.equal(f.iflags, 'S');
  assert.equal(f.uflags, 'FSPA');
  assert.equal(f.stcpseq, 100); assert.equal(f.dtcpseq, 900);
  assert.equal(f.pcr, Math.round((100 * (100 - 300)) / 400));
  assert.equal(f.stime, T0); assert.equal(f.etime, T0 + 7000); assert.equal(f.dur, 7);
  assert.equal(f.snonemptypktcnt, 1); assert.equal(f.dnonemptypktcnt, 1);
  assert.equal(f.sfirstnonemptycnt, 100); assert.equal(f.dfirstnonemptycnt, 300);
  assert.equal(f.slargepktcnt, 0); assert.equal(f.dlargepktcnt, 1);
  assert.equal(f.ssmallpktcnt, 4); assert.equal(f.dsmallpktcnt, 2);
  assert.equal(f.smaxpktsize, 140); assert.equal(f.dmaxpktsize, 340);
  assert.equal(f.savgpayload, 100); assert.equal(f.sstdevpayload, 0);
  assert.equal(f.sentropy, 0); // one repeated byte value
  assert.equal(f.spd, 'SDSSD' + 'S');
  assert.equal(f.spdt, '0,1,2,5,6,7');
  assert.equal(f.smac, '02:00:00:00:00:02'); assert.equal(f.dmac, '02:00:00:00:00:01');
  assert.equal(f.flowid, expectedFlowId('test', C, S, 40000, 80, 6, T0), 'name-based: observation, flow key, start time');
  assert.equal(f.community_id.length, 30);
  assert.equal(f.version, 1); assert.equal(f.obname, 'test');
  assert.notEqual(flows[1]!.flowid, f.flowid);
  // Deterministic: the same capture gives the same ids again; another observation, other ids.
  const again = await runFiles([p]);
  assert.deepEqual(again.flows.map((x) => x.flowid), flows.map((x) => x.flowid));
  const other = await runFiles([p], options({ observation: 'sensor-02' }));
  assert.notEqual(other.flows[0]!.flowid, f.flowid);
  assert.equal(other.flows[0]!.flowid, expectedFlowId('sensor-02', C, S, 40000, 80, 6, T0));
  assert.equal(flows[1]!.reason, 'eof');
  assert.equal(flows[1]!.saddr, S);
});

test('RST ends the flow immediately, RST packet included', async () => {
  const p = pcap([
    { ts: T0, data: tcpFrame(C, S, 40001, 443, TCP.S, 1) },
    { ts: T0 + 10, data: tcpFrame(S, C, 443, 40001, TCP.R | TCP.A, 0) },
    { ts: T0 + 20, data: tcpFrame(C, S, 40001, 443, TCP.S, 1) },
  ]);
  const { flows } = await runFiles([p]);
  assert.deepEqual(flows.map((f) => [f.reason, f.spkts, f.dpkts]), [['rst', 1, 1], ['eof', 1, 0]]);
  assert.equal(flows[0]!.uflags, 'SRA');
});

test('packets trailing a close join the closed flow, which ends at the linger; a SYN on the tuple starts a new one', async () => {
  const p = pcap([
    // closed by RST: the client closed first and its kernel answers each late segment with a RST
    { ts: T0, data: tcpFrame(C, S, 40005, 8443, TCP.S, 1) },
    { ts: T0 + 100, data: tcpFrame(S, C, 8443, 40005, TCP.S | TCP.A, 9) },
    { ts: T0 + 200, data: tcpFrame(C, S, 40005, 8443, TCP.A, 2) },
    { ts: T0 + 300, data: tcpFrame(C, S, 40005, 8443, TCP.F | TCP.A, 2) },
    { ts: T0 + 400, data: tcpFrame(S, C, 8443, 40005, TCP.P | TCP.A, 10, Buffer.alloc(24, 0x17)) },
    { ts: T0 + 500, data: tcpFrame(S, C, 8443, 40005, TCP.F | TCP.A, 34) },
    { ts: T0 + 600, data: tcpFrame(C, S, 40005, 8443, TCP.R, 3) },
    { ts: T0 + 700, data: tcpFrame(C, S, 40005, 8443, TCP.R, 3) },
    // closed by FIN both ways and the last ACK; the peer retransmits its FIN, the ACK is repeated
    { ts: T0 + 1000, data: tcpFrame(C, S, 40006, 80, TCP.S, 1) },
    { ts: T0 + 1100, data: tcpFrame(S, C, 80, 40006, TCP.S | TCP.A, 9) },
    { ts: T0 + 1200, data: tcpFrame(C, S, 40006, 80, TCP.F | TCP.A, 2) },
    { ts: T0 + 1300, data: tcpFrame(S, C, 80, 40006, TCP.F | TCP.A, 10) },
    { ts: T0 + 1400, data: tcpFrame(C, S, 40006, 80, TCP.A, 3) },
    { ts: T0 + 300_000, data: tcpFrame(S, C, 80, 40006, TCP.F | TCP.A, 10) },
    { ts: T0 + 300_100, data: tcpFrame(C, S, 40006, 80, TCP.A, 3) },
    // a new connection reusing the first tuple within the linger: its own flow
    { ts: T0 + 500_000, data: tcpFrame(C, S, 40005, 8443, TCP.S, 1000) },
    { ts: T0 + 500_100, data: tcpFrame(S, C, 8443, 40005, TCP.R | TCP.A, 0) },
    // later traffic: packet time passes the linger, the closed flows end before the capture does
    { ts: T0 + 4_000_000, data: udpFrame(C, S, 1, 2) },
  ]);
  const { flows } = await runFiles([p]);
  const row = (f: (typeof flows)[number]) => [f.proto, f.sport, f.dport, f.reason, f.spkts, f.dpkts, f.etime];
  assert.deepEqual(flows.map(row), [
    ['TCP', 40005, 8443, 'rst', 5, 3, T0 + 700],
    ['TCP', 40006, 80, 'end', 4, 3, T0 + 300_100],
    ['TCP', 40005, 8443, 'rst', 1, 1, T0 + 500_100],
    ['UDP', 1, 2, 'eof', 1, 0, T0 + 4_000_000],
  ]);
});

test('FIN in both directions without the last ACK ends with reason end at idle expiry', async () => {
  const p = pcap([
    { ts: T0, data: tcpFrame(C, S, 40002, 80, TCP.F | TCP.A, 1) },
    { ts: T0 + 10, data: tcpFrame(S, C, 80, 40002, TCP.F | TCP.A, 2) },
    { ts: T0 + 100_000_000, data: udpFrame(C, S, 1, 2) },
  ]);
  const { flows } = await runFiles([p], options({ idleTimeout: 60 }));
  assert.equal(flows[0]!.reason, 'end');
  assert.equal(flows[0]!.proto, 'TCP');
});

test('idle and active timeouts use packet time', async () => {
  const frames: Frame[] = [];
  for (let i = 0; i <= 10; i++) frames.push({ ts: T0 + i * 10_000_000, data: udpFrame(C, S, 5000, 53, Buffer.alloc(10)) });
  frames.push({ ts: T0 + 500_000_000, data: udpFrame(C, S, 5000, 53, Buffer.alloc(10)) });
  const { flows } = await runFiles([pcap(frames)], options({ idleTimeout: 120, activeTimeout: 30 }));
  // 0..100 s every 10 s with active 30 s: [0,10,20] [30,40,50] [60,70,80] [90,100] then idle, then eof
  assert.deepEqual(flows.map((f) => f.reason), ['active', 'active', 'active', 'idle', 'eof']);
  assert.deepEqual(flows.map((f) => f.spkts), [3, 3, 3, 2, 1]);
  assert.equal(new Set(flows.map((f) => f.flowid)).size, 5);
});

test('max_flows evicts the least recently active flow', async () => {
  const p = pcap([
    { ts: T0, data: udpFrame(C, S, 1001, 53) },
    { ts: T0 + 1, data: udpFrame(C, S, 1002, 53) },
    { ts: T0 + 2, data: udpFrame(C, S, 1001, 53) }, // 1002 is now the LRU
    { ts: T0 + 3, data: udpFrame(C, S, 1003, 53) },
  ]);
  const { flows, sensor } = await runFiles([p], options({ maxFlows: 2 }));
  assert.equal(flows[0]!.reason, 'evict');
  assert.equal(flows[0]!.sport, 1002);
  assert.equal(sensor.stats().flows_evicted, 1);
  assert.equal(flows.length, 3);
});

test('ICMP echo request and reply form one flow (type in sport, code in dport)', async () => {
  const p = pcap([
    { ts: T0, data: ether(ipv4({ src: C, dst: S, proto: 1, l4: icmpMsg(8, 0, Buffer.alloc(56)) })) },
    { ts: T0 + 300, data: ether(ipv4({ src: S, dst: C, proto: 1, l4: icmpMsg(0, 0, Buffer.alloc(56)) })) },
    { ts: T0 + 400, data: ether(ipv4({ src: S, dst: C, proto: 1, l4: icmpMsg(3, 3, Buffer.alloc(28)) })) },
  ]);
  const { flows } = await runFiles([p]);
  assert.equal(flows.length, 2);
  const echo = flows.find((f) => f.sport === 8)!;
  assert.equal(echo.proto, 'ICMP');
  assert.equal(echo.dport, 0);
  assert.equal(echo.spkts, 1); assert.equal(echo.dpkts, 1);
  assert.equal(echo.sbytes, 84);
  assert.equal(echo.iflags, ''); assert.equal(echo.uflags, '');
  const unreach = flows.find((f) => f.sport === 3)!;
  assert.equal(unreach.dport, 3);
  assert.equal(unreach.saddr, S);
});

function fragments(): Frame[] {
  const payload = Buffer.alloc(3000, 7);
  const l4 = udpDgram(7000, 8000, payload); // 3008 bytes of IP payload
  const cuts = [[0, 1480], [1480, 2960], [2960, 3008]] as const;
  // deliver out of order, with a duplicate of the middle fragment
  const order = [1, 0, 1, 2];
  return order.map((i, k) => {
    const [a, b] = cuts[i]!;
    return {
      ts: T0 + k * 100,
      data: ether(ipv4({ src: C, dst: S, proto: 17, id: 42, fragOffset: a, mf: b < 3008, l4: l4.subarray(a, b) })),
    };
  });
}

test('IPv4 fragments are reassembled into one packet of the datagram length', async () => {
  const { flows, sensor } = await runFiles([pcap(fragments())]);
  assert.equal(flows.length, 1);
  const f = flows[0]!;
  assert.equal(f.spkts, 1);
  assert.equal(f.sbytes, 20 + 3008);
  assert.equal(f.sport, 7000); assert.equal(f.dport, 8000);
  assert.equal(f.sfirstnonemptycnt, 3000);
  const st = sensor.stats();
  assert.equal(st.frag_fragments, 4);
  assert.equal(st.frag_reassembled, 1);
});

test('with fragment.disabled every fragment is a packet; non-first fragments have ports 0', async () => {
  const { flows } = await runFiles([pcap(fragments())], options({ fragment: { disabled: true, maxTables: 1024, timeout: 30 } }));
  const withPorts = flows.find((f) => f.sport === 7000)!;
  const noPorts = flows.find((f) => f.sport === 0)!;
  assert.equal(withPorts.spkts, 1);
  assert.equal(noPorts.spkts, 3);
});

test('an incomplete fragment train times out into the flow of its first fragment', async () => {
  const fr = fragments().slice(0, 2); // the middle and the first fragment; the last never comes
  fr.push({ ts: T0 + 60_000_000, data: udpFrame(C, S, 1, 2) });
  const { flows, sensor } = await runFiles([pcap(fr)]);
  const st = sensor.stats();
  assert.equal(st.frag_timed_out, 1);
  assert.equal(st.frag_reassembled, 0);
  assert.equal(st.frag_incomplete, 1);
  const f = flows.find((x) => x.sport === 7000);
  assert.ok(f, `the datagram's flow: ${JSON.stringify(flows.map((x) => [x.saddr, x.sport, x.daddr, x.dport]))}`);
  assert.deepEqual([f.proto, f.saddr, f.daddr, f.dport, f.spkts, f.dpkts], ['UDP', C, S, 8000, 1, 0]);
  assert.equal(f.sbytes, 20 + 2960, 'the bytes that arrived');
  assert.equal(f.stime, T0 + 100, 'the first fragment\'s time');
});

test('an incomplete fragment train still pending at the end of the capture is metered', async () => {
  const { flows, sensor } = await runFiles([pcap(fragments().slice(1, 2))]); // only the first fragment
  assert.equal(sensor.stats().frag_incomplete, 1);
  assert.equal(sensor.stats().frag_timed_out, 0);
  assert.deepEqual(flows.map((f) => [f.proto, f.sport, f.dport, f.spkts, f.sbytes]), [['UDP', 7000, 8000, 1, 20 + 1480]]);
});

test('fragments whose first fragment never came form an IP-level flow (ports 0)', async () => {
  const fr = fragments().filter((_, k) => k !== 1); // every fragment but the one at offset 0 (the middle one twice)
  const { flows, sensor } = await runFiles([pcap(fr)]);
  assert.equal(sensor.stats().frag_incomplete, 1);
  assert.deepEqual(flows.map((f) => [f.proto, f.saddr, f.sport, f.dport, f.spkts, f.sbytes]), [['UDP', C, 0, 0, 1, 20 + 1480 + 48]]);
});

test('a datagram evicted for fragment.max_tables is metered too', async () => {
  const first = fragments()[1]!; // offset 0 of datagram 42 (ports 7000 > 8000)
  const other = { ts: T0 + 500, data: ether(ipv4({ src: S, dst: C, proto: 17, id: 43, mf: true, l4: udpDgram(9000, 9001, Buffer.alloc(1472, 1)) })) };
  const { flows, sensor } = await runFiles([pcap([first, other])], options({ fragment: { disabled: false, maxTables: 1, timeout: 30 } }));
  const st = sensor.stats();
  assert.equal(st.frag_dropped, 1, 'the eviction');
  assert.equal(st.frag_incomplete, 2, 'the evicted datagram and, at the end, the other');
  assert.deepEqual(flows.map((f) => [f.sport, f.dport, f.spkts]).sort(), [[7000, 8000, 1], [9000, 9001, 1]]);
});

function ipv6Frame(src: string, dst: string, nxt: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(payload.length, 4);
  h[6] = nxt;
  h[7] = 64;
  // eight groups written out (no '::')
  const addr = (a: string): Buffer => Buffer.from(a.split(':').flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]));
  addr(src).copy(h, 8);
  addr(dst).copy(h, 24);
  return ether(Buffer.concat([h, payload]), 0, 0x86dd);
}

test('an incomplete IPv6 fragment train times out into the flow of its first fragment', async () => {
  const l4 = tcpSeg(40100, 443, TCP.A | TCP.P, 5000, Buffer.alloc(2000, 3));
  const frag = (off: number, more: boolean, id: number): Buffer => {
    const f = Buffer.alloc(8);
    f[0] = 6; // TCP
    f.writeUInt16BE(off | (more ? 1 : 0), 2);
    f.writeUInt32BE(id, 4);
    return f;
  };
  const first = Buffer.concat([frag(0, true, 77), l4.subarray(0, 1232)]);
  const fr: Frame[] = [
    { ts: T0, data: ipv6Frame('2001:db8:0:0:0:0:0:1', '2001:db8:0:0:0:0:0:2', 44, first) },
    { ts: T0 + 31_000_000, data: udpFrame(C, S, 1, 2) },
  ];
  const { flows, sensor } = await runFiles([pcap(fr)]);
  assert.equal(sensor.stats().frag_timed_out, 1);
  const f = flows.find((x) => x.saddr === '2001:db8::1');
  assert.ok(f, 'the IPv6 datagram\'s flow');
  assert.deepEqual([f.proto, f.sport, f.dport, f.spkts, f.sbytes], ['TCP', 40100, 443, 1, 40 + 8 + 1232]);
});

test('a packet whose TCP header is cut short still counts, on an IP-level flow when its ports are missing', async () => {
  const seg = tcpSeg(40200, 80, TCP.S);
  const p = pcap([
    // IP length says 2 bytes of TCP: neither ports nor flags
    { ts: T0, data: ether(ipv4({ src: C, dst: S, proto: 6, l4: seg.subarray(0, 2) })) },
    // snaplen cut after 10 bytes of TCP: ports, no flags
    { ts: T0 + 10, data: ether(ipv4({ src: C, dst: S, proto: 6, l4: seg, id: 2 })).subarray(0, 14 + 20 + 10) },
  ]);
  const { flows, sensor } = await runFiles([p]);
  const st = sensor.stats();
  assert.equal(st.l4_header_cut, 2);
  assert.equal(st.err_truncated, 1, 'the snaplen cut');
  const key = (f: (typeof flows)[number]): string => `${f.proto} ${f.saddr}:${f.sport} > ${f.daddr}:${f.dport} ${f.spkts} ${f.sbytes}`;
  assert.deepEqual(flows.map(key).sort(), [`TCP ${C}:0 > ${S}:0 1 22`, `TCP ${C}:40200 > ${S}:80 1 40`]);
});

test('VLAN is recorded per direction but is not part of the flow key', async () => {
  const p = pcap([
    { ts: T0, data: tcpFrame(C, S, 40003, 22, TCP.S, 1, Buffer.alloc(0), 10) },
    { ts: T0 + 5, data: tcpFrame(S, C, 22, 40003, TCP.S | TCP.A, 1, Buffer.alloc(0), 20) },
  ]);
  const { flows } = await runFiles([p]);
  assert.equal(flows.length, 1);
  assert.equal(flows[0]!.svlan, 10);
  assert.equal(flows[0]!.dvlan, 20);
});

test('garbage frames are counted, not fatal', async () => {
  const p = pcap([
    { ts: T0, data: Buffer.from([1, 2, 3]) },
    { ts: T0 + 1, data: ether(Buffer.from([0x45, 0, 0, 10])) },
    { ts: T0 + 2, data: ether(Buffer.from([0x4f, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])) },
    { ts: T0 + 3, data: udpFrame(C, S, 9, 9) },
  ]);
  const { flows, sensor } = await runFiles([p]);
  assert.equal(flows.length, 1);
  const st = sensor.stats();
  assert.equal(st.packets, 4);
  assert.ok(st.err_truncated + st.err_bad_ipv4 >= 3);
});
