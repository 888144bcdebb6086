// Shared helpers for the sensor tests: paths, default options and a minimal pcap writer used to
// craft tiny captures (the full traffic generator lives in synth/).
import { PACKAGE_ROOT } from '../../streams/package-root.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SensorOptions } from '../../sensor/src/native.js';

export const REPO = PACKAGE_ROOT;
export const SHARED = join(REPO, '..', 'shared');
export const NDPI_PCAPS = join(SHARED, 'data', 'ndpi', 'pcap');
export const TCPDUMP_PCAPS = join(SHARED, 'data', 'tcpdump');
export const REPLAY = join(REPO, 'sensor', 'native', 'build', 'damselfly-replay');
export const REPLAY_ASAN = join(REPO, 'sensor', 'native', 'build-asan', 'damselfly-replay');

export function options(over: Partial<SensorOptions> = {}): SensorOptions {
  return {
    observation: 'test',
    idleTimeout: 300,
    activeTimeout: 1800,
    maxFlows: 0,
    maxPayload: 500,
    snaplen: 0,
    mac: true,
    fragment: { disabled: false, maxTables: 1024, timeout: 30 },
    ...over,
  };
}

export interface Frame { ts: number; /* µs */ data: Buffer }

/** Writes a classic little-endian microsecond pcap file. */
export function writePcap(path: string, frames: Frame[], linktype = 1): void {
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(262144, 16);
  hdr.writeUInt32LE(linktype, 20);
  const parts: Buffer[] = [hdr];
  for (const f of frames) {
    const ph = Buffer.alloc(16);
    ph.writeUInt32LE(Math.floor(f.ts / 1e6), 0);
    ph.writeUInt32LE(f.ts % 1e6, 4);
    ph.writeUInt32LE(f.data.length, 8);
    ph.writeUInt32LE(f.data.length, 12);
    parts.push(ph, f.data);
  }
  writeFileSync(path, Buffer.concat(parts));
}

function ip4(a: string): Buffer {
  return Buffer.from(a.split('.').map((x) => Number(x)));
}

export const TCP = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10 } as const;

export interface Ip4Opts {
  src: string;
  dst: string;
  proto: number;
  l4: Buffer;
  id?: number;
  fragOffset?: number; // bytes, multiple of 8
  mf?: boolean;
  totalLength?: number; // override (for fragments: computed from l4)
}

export function ipv4(o: Ip4Opts): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(o.totalLength ?? 20 + o.l4.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(((o.mf ? 1 : 0) << 13) | ((o.fragOffset ?? 0) >> 3), 6);
  h[8] = 64;
  h[9] = o.proto;
  ip4(o.src).copy(h, 12);
  ip4(o.dst).copy(h, 16);
  return Buffer.concat([h, o.l4]);
}

export function ether(ip: Buffer, vlan = 0, ethertype = 0x0800): Buffer {
  const mac = Buffer.from([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02]);
  if (vlan) {
    const t = Buffer.alloc(6);
    t.writeUInt16BE(0x8100, 0);
    t.writeUInt16BE(vlan, 2);
    t.writeUInt16BE(ethertype, 4);
    return Buffer.concat([mac, t, ip]);
  }
  const et = Buffer.alloc(2);
  et.writeUInt16BE(ethertype, 0);
  return Buffer.concat([mac, et, ip]);
}

export function tcpSeg(sport: number, dport: number, flags: number, seq = 1000, payload = Buffer.alloc(0)): Buffer {
  const t = Buffer.alloc(20);
  t.writeUInt16BE(sport, 0);
  t.writeUInt16BE(dport, 2);
  t.writeUInt32BE(seq, 4);
  t[12] = 5 << 4;
  t[13] = flags;
  t.writeUInt16BE(65535, 14);
  return Buffer.concat([t, payload]);
}

export function udpDgram(sport: number, dport: number, payload = Buffer.alloc(0)): Buffer {
  const u = Buffer.alloc(8);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([u, payload]);
}

export function icmpMsg(type: number, code: number, payload = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h[1] = code;
  return Buffer.concat([h, payload]);
}

/** Ethernet/IPv4/TCP frame. */
export function tcpFrame(src: string, dst: string, sport: number, dport: number, flags: number,
  seq = 1000, payload = Buffer.alloc(0), vlan = 0): Buffer {
  return ether(ipv4({ src, dst, proto: 6, l4: tcpSeg(sport, dport, flags, seq, payload) }), vlan);
}

export function udpFrame(src: string, dst: string, sport: number, dport: number, payload = Buffer.alloc(0)): Buffer {
  return ether(ipv4({ src, dst, proto: 17, l4: udpDgram(sport, dport, payload) }));
}

import { FileSensor, endedFlows } from '../../sensor/src/native.js';
import type { FlowRecord } from '../../streams/schema.js';

/** Runs one or more files through a FileSensor and returns every flow (batches + flush). */
export async function runFiles(files: string[], opts = options(), batch = 65536): Promise<{ flows: FlowRecord[]; sensor: FileSensor }> {
  const sensor = new FileSensor(opts);
  const flows: FlowRecord[] = [];
  for (const f of files) {
    sensor.open(f);
    for (;;) {
      const b = await sensor.readBatch(batch);
      flows.push(...endedFlows(b));
      if (b.done) break;
    }
  }
  flows.push(...sensor.flush());
  return { flows, sensor };
}

// ---------------------------------------------------------------------------------------------
// nDPI's result files (../shared/data/ndpi/result/*.out) name flows by `addr:port` endpoints

/** `addr:port` / `[v6]:port` of a result line as `addr|port`. */
export function endpoint(s: string): string {
  return s.startsWith('[') ? s.slice(1).replace(']:', '|') : s.replace(/:(\d+)$/, '|$1');
}

/** `addr|port` with the address in one canonical text form: nDPI's reader compresses a single zero
 * group of an IPv6 address (`b00c::2`) where RFC 5952, and we, write `b00c:0:2`. */
export function canonical(ep: string): string {
  const i = ep.lastIndexOf('|');
  const addr = ep.slice(0, i);
  if (!addr.includes(':') || !URL.canParse(`http://[${addr}]/`)) return ep;
  return `${new URL(`http://[${addr}]/`).hostname.slice(1, -1)}${ep.slice(i)}`;
}
