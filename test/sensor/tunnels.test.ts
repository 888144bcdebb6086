// Tunnel decapsulation: flows are keyed on the innermost IP packet of IPv4-in-IPv4, GRE (IP and
// transparent Ethernet), VXLAN and CAPWAP data (802.11 or 802.3 inside); a truncated inner packet
// leaves the outer flow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { ether, ipv4, tcpSeg, udpDgram, writePcap, runFiles, TCP, NDPI_PCAPS, type Frame } from './helpers.js';

const OUTER = { src: '192.0.2.1', dst: '192.0.2.2' };
const inner = (sport: number): Buffer => ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, l4: tcpSeg(sport, 80, TCP.S) });

function gre(protocol: number, payload: Buffer, key = false): Buffer {
  const h = Buffer.alloc(key ? 8 : 4);
  h.writeUInt16BE(key ? 0x2000 : 0, 0);
  h.writeUInt16BE(protocol, 2);
  return Buffer.concat([h, payload]);
}

function vxlan(payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x08; // VNI present
  h.writeUIntBE(42, 4, 3);
  return udpDgram(54321, 4789, Buffer.concat([h, payload]));
}

const innerEther = (ip: Buffer): Buffer => ether(ip); // 14-byte inner Ethernet header + IPv4

test('tunnelled packets are metered on their inner 5-tuple', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfly-tunnels-'));
  try {
    const frames: Frame[] = [
      { ts: 1_000_000, data: ether(ipv4({ ...OUTER, proto: 4, l4: inner(1001) })) }, // IPv4-in-IPv4
      { ts: 1_000_100, data: ether(ipv4({ ...OUTER, proto: 47, l4: gre(0x0800, inner(1002)) })) }, // GRE → IPv4
      { ts: 1_000_200, data: ether(ipv4({ ...OUTER, proto: 47, l4: gre(0x0800, inner(1003), true) })) }, // GRE with key
      { ts: 1_000_300, data: ether(ipv4({ ...OUTER, proto: 47, l4: gre(0x6558, innerEther(inner(1004))) })) }, // GRE → Ethernet
      { ts: 1_000_400, data: ether(ipv4({ ...OUTER, proto: 17, l4: vxlan(innerEther(inner(1005))) })) }, // VXLAN
      { ts: 1_000_500, data: ether(ipv4({ ...OUTER, proto: 4, l4: inner(1006).subarray(0, 12) })) }, // truncated inner
    ];
    const pcap = join(dir, 'tunnels.pcap');
    writePcap(pcap, frames);
    const { flows } = await runFiles([pcap]);
    const innerPorts = flows.filter((f) => f.saddr === '10.0.0.1' && f.daddr === '10.0.0.2' && f.proto === 'TCP').map((f) => f.sport).sort();
    assert.deepEqual(innerPorts, [1001, 1002, 1003, 1004, 1005]);
    for (const f of flows.filter((x) => x.saddr === '10.0.0.1')) {
      assert.equal(f.spkts, 1);
      assert.equal(f.sbytes, 40, 'bytes are the inner IP length');
      assert.equal(f.iflags, 'S');
    }
    // The truncated inner packet is counted on the outer IPv4-in-IPv4 flow instead of being lost.
    const outer = flows.filter((f) => f.saddr === OUTER.src);
    assert.equal(outer.length, 1);
    assert.equal(outer[0]!.proto, 'IPIP');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// CAPWAP data: header (preamble 0, HLEN in 4-byte words, WBID, T) then the frame.
function capwap(payload: Buffer, o: { native: boolean; wireless?: boolean; dtls?: boolean } = { native: true }): Buffer {
  const h = Buffer.alloc(o.wireless ? 16 : 8);
  h[0] = o.dtls ? 1 : 0;
  h[1] = (h.length / 4) << 3; // HLEN
  h[2] = (1 << 1) | (o.native ? 1 : 0); // WBID 1 (IEEE 802.11), T
  h[3] = o.wireless ? 0x20 : 0; // W: wireless specific information follows
  if (o.wireless) { h[8] = 4; h.writeUInt32BE(0xbf230000, 9); }
  return udpDgram(41264, 5247, Buffer.concat([h, payload]));
}

// 802.11 data frame (ToDS) + LLC/SNAP + IPv4; `swap`: frame control byte-swapped (Cisco APs).
function wlanData(ip: Buffer, o: { qos?: boolean; swap?: boolean; protect?: boolean } = {}): Buffer {
  const h = Buffer.alloc(o.qos ? 26 : 24);
  const fc0 = o.qos ? 0x88 : 0x08;
  const fc1 = 0x01 | (o.protect ? 0x40 : 0);
  h[0] = o.swap ? fc1 : fc0;
  h[1] = o.swap ? fc0 : fc1;
  return Buffer.concat([h, Buffer.from([0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]), ip]);
}

test('CAPWAP data: 802.11 (plain, QoS, swapped frame control) and 802.3 frames are metered on their inner flow', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfly-capwap-'));
  try {
    const AP = { src: '192.0.2.10', dst: '192.0.2.20' };
    const frames: Frame[] = [
      { ts: 1_000_000, data: ether(ipv4({ ...AP, proto: 17, l4: capwap(wlanData(inner(2001))) })) },
      { ts: 1_000_100, data: ether(ipv4({ ...AP, proto: 17, l4: capwap(wlanData(inner(2002), { qos: true, swap: true }), { native: true, wireless: true }) })) },
      { ts: 1_000_200, data: ether(ipv4({ ...AP, proto: 17, l4: capwap(innerEther(inner(2003)), { native: false }) })) },
      // not opened: an encrypted 802.11 frame and DTLS stay on the outer UDP flow
      { ts: 1_000_300, data: ether(ipv4({ ...AP, proto: 17, l4: capwap(wlanData(inner(2004), { protect: true })) })) },
      { ts: 1_000_400, data: ether(ipv4({ ...AP, proto: 17, l4: capwap(wlanData(inner(2005)), { native: true, dtls: true }) })) },
    ];
    const pcap = join(dir, 'capwap.pcap');
    writePcap(pcap, frames);
    const { flows } = await runFiles([pcap]);
    const innerPorts = flows.filter((f) => f.saddr === '10.0.0.1' && f.proto === 'TCP').map((f) => f.sport).sort();
    assert.deepEqual(innerPorts, [2001, 2002, 2003]);
    const outer = flows.filter((f) => f.saddr === AP.src);
    assert.deepEqual(outer.map((f) => [f.proto, f.dport, f.spkts]), [['UDP', 5247, 2]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CAPWAP data capture (nDPI capwap_data.pcapng): the inner flow with tshark\'s packet counts', async (t) => {
  const file = join(NDPI_PCAPS, 'capwap_data.pcapng');
  if (!existsSync(file)) { t.skip(`${file}: /work/shared/data/ndpi absent`); return; }
  let tshark = '';
  try {
    tshark = execFileSync('tshark', ['-n', '-r', file, '-Y', 'capwap.data and tcp', '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.srcport'], { encoding: 'utf8' });
  } catch { t.skip('tshark not installed'); return; }
  // the inner (last) ip.src of each frame
  const dirs = new Map<string, number>();
  for (const line of tshark.trim().split('\n')) {
    const [srcs, port] = line.split('\t');
    const k = `${srcs!.split(',').at(-1)}:${port}`;
    dirs.set(k, (dirs.get(k) ?? 0) + 1);
  }
  const { flows } = await runFiles([file]);
  const f = flows.find((x) => x.proto === 'TCP' && (x.saddr === '10.1.3.68' || x.daddr === '10.1.3.68'));
  assert.ok(f, `the inner TCP flow: ${JSON.stringify(flows.map((x) => [x.proto, x.saddr, x.daddr]))}`);
  t.diagnostic(`tshark ${JSON.stringify([...dirs])}; ours ${f.saddr}:${f.sport} ${f.spkts}/${f.dpkts}`);
  assert.equal(f.spkts, dirs.get(`${f.saddr}:${f.sport}`));
  assert.equal(f.dpkts, dirs.get(`${f.daddr}:${f.dport}`));
  assert.equal(flows.filter((x) => x.dport === 5247 || x.sport === 5247).length, 0, 'no packet left on the outer CAPWAP flow');
});
