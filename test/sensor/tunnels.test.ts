// Tunnel decapsulation: flows are keyed on the innermost IP packet of IPv4-in-IPv4, GRE (IP and
// transparent Ethernet) and VXLAN; a truncated inner packet leaves the outer flow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ether, ipv4, tcpSeg, udpDgram, writePcap, runFiles, TCP, type Frame } from './helpers.js';

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
