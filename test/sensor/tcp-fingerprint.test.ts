// nDPI's TCP fingerprint (ndpi_tcp_fp, "fingerprint/os") and composite fingerprint (ndpi_fp) on
// end records with nDPI enabled (sensor/native/src/core/ndpi_fingerprint.*).
// - Hand-built SYNs with the expected values worked out by hand: the options hex R (kind + value
//   bytes in wire order, no length byte, no Timestamp value, up to the first EOL), the first 6
//   bytes of SHA-256(R), the TTL rounded up, and nDPI's OS table (the Linux and Windows values
//   are entries of that table); ndpi_fp = first 16 bytes of SHA-256("<tcp fp>-<ja4>-no_app_fp_srv").
// - A generated capture: every SYN the generator writes has one of a few option layouts, so
//   every ndpi_tcp_fp is one of the hand-computed values below.
// - nDPI's own results (../shared/data/ndpi/result/*.out report "[TCP Fingerprint: fp/os]"):
//   ours must agree on >= 99% of the flows both report (all of them when this was written).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCapture } from '../../synth/index.js';
import { clientHello } from '../../synth/tls.js';
import { Rng } from '../../synth/rng.js';
import type { FlowEvent } from '../../streams/schema.js';
import { tempDir, sharedData, missingShared } from '../helpers.js';
import { collect } from './collect.js';
import { writePcap, endpoint, canonical, type Frame } from './helpers.js';

const NDPI = { ndpi: { enabled: true } };
const ends = (evs: Awaited<ReturnType<typeof collect>>): FlowEvent[] =>
  evs.filter((e): e is FlowEvent => e.type === 'flow' && e.kind === 'end');
const sha256hex = (s: string): string => createHash('sha256').update(s).digest('hex');
const ndpiFp = (tcpFp: string, ja4: string): string => sha256hex(`${tcpFp}-${ja4}-no_app_fp_srv`).slice(0, 32);

// ---------------------------------------------------------------------------------------------
// Frames

function ipBytes(ip: string): number[] {
  if (!ip.includes(':')) return ip.split('.').map(Number);
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

interface Seg { src: string; dst: string; sport: number; dport: number; ttl: number; flags: number; win: number; seq?: number; opts?: number[]; data?: Uint8Array }

/** Ethernet + IPv4/IPv6 + TCP (checksums left 0: the sensor does not check them). */
function tcpFrame(s: Seg): Buffer {
  const v6 = s.src.includes(':');
  const opts = s.opts ?? [];
  assert.equal(opts.length % 4, 0, 'options must be padded to 4 bytes');
  const data = s.data ?? new Uint8Array(0);
  const tcp = Buffer.alloc(20 + opts.length + data.length);
  tcp.writeUInt16BE(s.sport, 0);
  tcp.writeUInt16BE(s.dport, 2);
  tcp.writeUInt32BE(s.seq ?? 1000, 4);
  tcp.writeUInt32BE(s.flags & 0x10 ? 5000 : 0, 8);
  tcp.writeUInt16BE((((20 + opts.length) / 4) << 12) | (s.flags & 0xfff), 12);
  tcp.writeUInt16BE(s.win, 14);
  Buffer.from(opts).copy(tcp, 20);
  Buffer.from(data).copy(tcp, 20 + opts.length);
  const eth = Buffer.from([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa, v6 ? 0x86 : 0x08, v6 ? 0xdd : 0x00]);
  let ip: Buffer;
  if (v6) {
    ip = Buffer.alloc(40);
    ip.writeUInt32BE(0x60000000, 0);
    ip.writeUInt16BE(tcp.length, 4);
    ip[6] = 6;
    ip[7] = s.ttl;
    Buffer.from(ipBytes(s.src)).copy(ip, 8);
    Buffer.from(ipBytes(s.dst)).copy(ip, 24);
  } else {
    ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + tcp.length, 2);
    ip.writeUInt16BE(0x4000, 6);
    ip[8] = s.ttl;
    ip[9] = 6;
    Buffer.from(ipBytes(s.src)).copy(ip, 12);
    Buffer.from(ipBytes(s.dst)).copy(ip, 16);
  }
  return Buffer.concat([eth, ip, tcp]);
}

const SYN = 0x02, ACK = 0x10, PSH = 0x08, ECE = 0x40, CWR = 0x80;
const TS = [8, 10, 0x1e, 0x62, 0x45, 0xb7, 0, 0, 0, 0];  // Timestamps: only the kind counts
// Linux: MSS 1460, SACK permitted, Timestamps, NOP, window scale 7 -> R = 02 05b4 04 08 01 03 07
const LINUX_OPTS = [2, 4, 0x05, 0xb4, 4, 2, ...TS, 1, 3, 3, 7];
// Windows 10/11: MSS 1460, NOP, WS 8, NOP, NOP, SACK permitted -> R = 02 05b4 01 03 08 01 01 04
const WINDOWS_OPTS = [2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2];
// macOS curl (nDPI's 443-curl.pcap): ..., SACK permitted, EOL, EOL -> R stops at the first EOL:
// 02 05b4 01 03 05 01 01 08 04 00
const MACOS_OPTS = [2, 4, 0x05, 0xb4, 1, 3, 3, 5, 1, 1, ...TS, 4, 2, 0, 0];

const SRV = '192.0.2.10';
const T0 = 1_768_471_200_000_000;

function handBuiltFrames(): { frames: Frame[]; hello: Uint8Array } {
  const hello = clientHello(new Rng(7), { sni: 'www.example.com', alpn: ['h2', 'http/1.1'], kind: 'firefox' }).record;
  const f: Frame[] = [];
  let ts = T0;
  const add = (s: Seg): void => { f.push({ ts, data: tcpFrame(s) }); ts += 1000; };
  // 1: Linux SYN, handshake, ClientHello
  const c1 = { src: '10.0.0.1', dst: SRV, sport: 40001, dport: 443 };
  const s1 = { src: SRV, dst: '10.0.0.1', sport: 443, dport: 40001 };
  add({ ...c1, ttl: 64, flags: SYN, win: 64240, seq: 1000, opts: LINUX_OPTS });
  add({ ...s1, ttl: 58, flags: SYN | ACK, win: 65160, seq: 5000, opts: [2, 4, 0x05, 0xb4, 1, 1, 4, 2] });
  add({ ...c1, ttl: 64, flags: ACK, win: 502, seq: 1001 });
  add({ ...c1, ttl: 64, flags: PSH | ACK, win: 502, seq: 1001, data: hello });
  // 2: Windows SYN (HTTP port, no TLS)
  add({ src: '10.0.0.2', dst: SRV, sport: 40002, dport: 80, ttl: 128, flags: SYN, win: 64240, opts: WINDOWS_OPTS });
  // 3: macOS SYN with EOL padding
  add({ src: '10.0.0.3', dst: SRV, sport: 40003, dport: 8443, ttl: 64, flags: SYN, win: 65535, opts: MACOS_OPTS });
  // 4: ECN setup SYN (SYN+ECE+CWR = 194), TTL 50 -> 64, MSS only (scanner-like)
  add({ src: '10.0.0.4', dst: SRV, sport: 40004, dport: 22, ttl: 50, flags: SYN | ECE | CWR, win: 1024, opts: [2, 4, 0x05, 0xb4] });
  // 5: IPv6, hop limit 255, no options
  add({ src: '2001:db8::5', dst: '2001:db8::10', sport: 40005, dport: 8080, ttl: 255, flags: SYN, win: 8192 });
  // 6: mid-flow: no SYN ever seen
  add({ src: '10.0.0.6', dst: SRV, sport: 40006, dport: 443, ttl: 64, flags: PSH | ACK, win: 502, data: new Uint8Array(10) });
  // 7: a zero option length: nDPI reads the same option again until its 126-character buffer is
  // full -> R = "22" x 63
  add({ src: '10.0.0.7', dst: SRV, sport: 40007, dport: 9000, ttl: 64, flags: SYN, win: 1000, opts: [34, 0, 0, 0] });
  return { frames: f, hello };
}

test('hand-built SYNs: ndpi_tcp_fp and ndpi_fp as worked out by hand; nothing without nDPI', async () => {
  const t = tempDir();
  try {
    const { frames } = handBuiltFrames();
    const pcap = join(t.dir, 'syns.pcap');
    writePcap(pcap, frames);
    const flows = ends(await collect(pcap, NDPI));
    const by = (sport: number): FlowEvent => {
      const r = flows.find((x) => x.sport === sport);
      assert.ok(r, `no end record for source port ${sport}`);
      return r;
    };
    // R = "0205b40408010307", sha256 -> 2e3cee914fc1...: nDPI's table entry for Linux
    assert.equal(by(40001).ndpi_tcp_fp, '2_64_64240_2e3cee914fc1/Linux');
    // R = "0205b4010308010104" -> 6bb88f5575fd: nDPI's Windows 10/11 entry
    assert.equal(by(40002).ndpi_tcp_fp, '2_128_64240_6bb88f5575fd/Windows');
    // R = "0205b40103050101080400" -> 63970bc57fac (nDPI's result for 443-curl.pcap); not in the OS table
    assert.equal(by(40003).ndpi_tcp_fp, '2_64_65535_63970bc57fac/Unknown');
    // flags 0x0c2 = 194, TTL 50 -> 64, R = "0205b4" -> 6bbe28597824
    assert.equal(by(40004).ndpi_tcp_fp, '194_64_1024_6bbe28597824/Unknown');
    // R = "" -> SHA-256 of nothing, e3b0c44298fc...
    assert.equal(by(40005).ndpi_tcp_fp, '2_255_8192_e3b0c44298fc/Unknown');
    assert.equal(by(40006).ndpi_tcp_fp, undefined, 'no SYN seen: no TCP fingerprint');
    assert.equal(by(40007).ndpi_tcp_fp, `2_64_1000_${sha256hex('22'.repeat(63)).slice(0, 12)}/Unknown`);
    assert.equal(by(40007).ndpi_tcp_fp, '2_64_1000_bc416491e04b/Unknown');

    // ndpi_fp of the TLS flow: tcp fingerprint (without the OS) + our JA4 + the client-only tail
    const tls = by(40001);
    // JA4 of this ClientHello worked out separately (FoxIO's JA4 over the generator's Firefox hello)
    assert.equal(tls.ndpi_ja4, 't13d1714h2_5b57614c22b0_690895b89000');
    // SHA-256("2_64_64240_2e3cee914fc1-t13d1714h2_5b57614c22b0_690895b89000-no_app_fp_srv")[0..16)
    assert.equal(tls.ndpi_fp, 'e4bbe67cd26e878a32d1e49347488fd2');
    assert.equal(tls.ndpi_fp, ndpiFp('2_64_64240_2e3cee914fc1', tls.ndpi_ja4));
    // no TLS: no composite fingerprint (nDPI computes it for TLS-like flows only)
    assert.equal(by(40002).ndpi_fp, undefined);
    assert.equal(by(40005).ndpi_fp, undefined);

    for (const r of ends(await collect(pcap))) {
      assert.equal(r.ndpi_tcp_fp, undefined, 'ndpi_tcp_fp with nDPI off');
      assert.equal(r.ndpi_fp, undefined, 'ndpi_fp with nDPI off');
    }
  } finally {
    t.cleanup();
  }
});

// Every SYN the generator writes (synth/net.ts TcpConn.send) is one of: Linux-like with
// Timestamps (TTL 64), Windows-like without (TTL 128), or an nmap probe (MSS only, window 1024);
// the client window is 64240 and the MSS 1460 (IPv4) or 1440 (IPv6); some sessions negotiate ECN
// (SYN+ECE+CWR: flags 194). OS hints: the entries of nDPI's table, Unknown otherwise.
const GENERATED: Record<string, string> = {
  '2_64_64240_2e3cee914fc1': 'Linux',       // v4, R = 0205b40408010307
  '194_64_64240_2e3cee914fc1': 'Unknown',
  '2_64_64240_83b2f9a5576c': 'Unknown',     // v6, R = 0205a00408010307 (the table has it with window 64800)
  '194_64_64240_83b2f9a5576c': 'Unknown',
  '2_128_64240_6bb88f5575fd': 'Windows',    // v4, R = 0205b4010308010104
  '194_128_64240_6bb88f5575fd': 'Windows',
  '2_128_64240_108f896b6121': 'Unknown',    // v6, R = 0205a0010308010104
  '194_128_64240_108f896b6121': 'Unknown',
  '2_64_1024_6bbe28597824': 'Unknown',      // nmap probe from a TTL-64 client, R = 0205b4
  '2_128_1024_6bbe28597824': 'Unknown',     // ... from a TTL-128 client
};

test('generated capture: every TCP flow opened by a SYN has one of the hand-computed fingerprints; TLS flows an ndpi_fp', async () => {
  const t = tempDir();
  try {
    const gen = await generateCapture({ out: join(t.dir, 'gen.pcap'), packets: 20_000, seed: 23 });
    const flows = ends(await collect(gen.path, NDPI));
    const seen = new Map<string, number>();
    let tls = 0;
    for (const f of flows) {
      if (f.proto !== 'TCP' || !f.iflags.includes('S')) {
        if (f.proto !== 'TCP') assert.equal(f.ndpi_tcp_fp, undefined, `${f.proto} flow with a TCP fingerprint`);
        continue;
      }
      assert.ok(f.ndpi_tcp_fp, `TCP flow ${f.saddr}:${f.sport} > ${f.daddr}:${f.dport} opened by a SYN has no ndpi_tcp_fp`);
      const [fp, os] = [f.ndpi_tcp_fp.slice(0, f.ndpi_tcp_fp.indexOf('/')), f.ndpi_tcp_fp.slice(f.ndpi_tcp_fp.indexOf('/') + 1)];
      assert.equal(GENERATED[fp], os, `unexpected fingerprint ${f.ndpi_tcp_fp} (${f.saddr} > ${f.daddr}:${f.dport})`);
      seen.set(fp, (seen.get(fp) ?? 0) + 1);
      if (f.ndpi_ja4) {
        tls++;
        assert.equal(f.ndpi_fp, ndpiFp(fp, f.ndpi_ja4), `ndpi_fp of ${f.saddr}:${f.sport}`);
      }
    }
    console.log(`# generated SYN fingerprints: ${JSON.stringify(Object.fromEntries(seen))}; TLS flows with ndpi_fp: ${tls}`);
    assert.ok((seen.get('2_64_64240_2e3cee914fc1') ?? 0) > 0 && (seen.get('2_128_64240_6bb88f5575fd') ?? 0) > 0, 'Linux and Windows clients expected');
    assert.ok(tls >= 5, `too few TLS flows (${tls})`);
  } finally {
    t.cleanup();
  }
});

// ---------------------------------------------------------------------------------------------
// nDPI's results

const pairKey = (a: string, b: string): string => [canonical(a), canonical(b)].sort().join(' ');

const ndpi = sharedData('ndpi');
test('ndpi_tcp_fp agrees with nDPI results on its captures (>= 99%)', { skip: !ndpi && missingShared('ndpi'), timeout: 600_000 }, async () => {
  const resDir = join(ndpi!, 'result');
  const pcapDir = join(ndpi!, 'pcap');
  let compared = 0, agreed = 0, notFound = 0;
  const diffs: string[] = [];
  for (const out of readdirSync(resDir).filter((f) => f.endsWith('.out')).sort()) {
    const pcap = join(pcapDir, out.slice(0, -4));
    if (!existsSync(pcap)) continue;
    const want = new Map<string, string>();
    for (const line of readFileSync(join(resDir, out), 'latin1').split('\n')) {
      const m = /^\s*\d+\s+TCP\s+(\S+) <?-> (\S+) \[.*\[TCP Fingerprint: ([^\]]*)\]/.exec(line);
      if (m) { const k = pairKey(endpoint(m[1]!), endpoint(m[2]!)); if (!want.has(k)) want.set(k, m[3]!); }
    }
    if (want.size === 0) continue;
    const got = new Map<string, string>();
    for (const f of ends(await collect(pcap, NDPI))) {
      if (f.proto !== 'TCP' || !f.ndpi_tcp_fp) continue;
      const k = pairKey(`${f.saddr}|${f.sport}`, `${f.daddr}|${f.dport}`);
      if (!got.has(k)) got.set(k, f.ndpi_tcp_fp);
    }
    for (const [k, v] of want) {
      const g = got.get(k);
      if (g === undefined) { notFound++; continue; }  // flow inside an encapsulation we do not decode, ...
      compared++;
      if (g === v) agreed++;
      else diffs.push(`${out}: ${k}: nDPI ${v}, ours ${g}`);
    }
  }
  console.log(`# ndpi_tcp_fp vs nDPI results: ${agreed}/${compared} agree (${notFound} nDPI flows not found here)`);
  for (const d of diffs.slice(0, 30)) console.log(`#   ${d}`);
  assert.ok(compared >= 1000, `only ${compared} fingerprints compared`);
  assert.ok(agreed / compared >= 0.99, `${agreed}/${compared} agree`);
});
