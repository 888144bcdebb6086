// Benchmark: bytes of memory per active flow at 1M concurrent flows, nDPI on (and off, for
// comparison). A generated capture (cached in .cache/bench) holds FLOWS distinct flows, one packet
// each, all within a few seconds so none expires: half UDP DNS queries, half TCP segments carrying
// an HTTP GET (both classified by nDPI on their first packet, so the per-flow nDPI state is freed
// at once). Each configuration runs in its own child process: RSS after the whole capture is read
// (before the flush, after a GC) minus RSS of the empty sensor, divided by the active flows.
// Usage: node --expose-gc dist/bench/memory-per-flow.js [--flows 1000000]
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSensor } from '../sensor/src/native.js';
import { machineLine } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

function csum(b: Buffer, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += b.readUInt16BE(off + i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Writes FLOWS one-packet flows (Ethernet/IPv4), 10.x.y.z clients to 192.0.2.x servers. */
function writeCapture(path: string, flows: number): void {
  const fd = openSync(path, 'w');
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0); hdr.writeUInt16LE(2, 4); hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(65535, 16); hdr.writeUInt32LE(1, 20);
  writeSync(fd, hdr);
  const chunk: Buffer[] = [];
  let size = 0;
  const t0 = 1768471200;  // 2026-01-15T10:00:00Z
  for (let i = 0; i < flows; i++) {
    const udp = i % 2 === 0;
    const name = `h${i.toString(36)}.example.com`;
    let l7: Buffer;
    if (udp) {
      const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
      l7 = Buffer.concat([Buffer.from([i >> 8 & 0xff, i & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
    } else {
      l7 = Buffer.from(`GET /i/${i} HTTP/1.1\r\nHost: ${name}\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n\r\n`);
    }
    const l4len = (udp ? 8 : 20) + l7.length;
    const f = Buffer.alloc(14 + 20 + l4len);
    f.writeUInt16BE(0x0800, 12);
    f[6] = 2; f[11] = 1;
    const ip = 14;
    f[ip] = 0x45; f.writeUInt16BE(20 + l4len, ip + 2); f[ip + 8] = 64; f[ip + 9] = udp ? 17 : 6;
    const c = 1 + (i >> 5);  // 32 flows per client address (distinct source ports)
    f[ip + 12] = 10; f[ip + 13] = c >> 16 & 0xff; f[ip + 14] = c >> 8 & 0xff; f[ip + 15] = c & 0xff;
    f[ip + 16] = 192; f[ip + 17] = 0; f[ip + 18] = 2; f[ip + 19] = 1 + (i % 200);
    f.writeUInt16BE(csum(f, ip, 20), ip + 10);
    const l4 = ip + 20;
    f.writeUInt16BE(20000 + (i & 31), l4);
    f.writeUInt16BE(udp ? 53 : 80, l4 + 2);
    if (udp) {
      f.writeUInt16BE(l4len, l4 + 4);
      l7.copy(f, l4 + 8);
    } else {
      f.writeUInt32BE(1000, l4 + 4); f.writeUInt32BE(1, l4 + 8);
      f[l4 + 12] = 0x50; f[l4 + 13] = 0x18; f.writeUInt16BE(64240, l4 + 14);
      l7.copy(f, l4 + 20);
    }
    const us = Math.floor(i * (5e6 / flows));  // all flows within 5 s: none idles out
    const ph = Buffer.alloc(16);
    ph.writeUInt32LE(t0 + Math.floor(us / 1e6), 0); ph.writeUInt32LE(us % 1e6, 4);
    ph.writeUInt32LE(f.length, 8); ph.writeUInt32LE(f.length, 12);
    chunk.push(ph, f);
    size += ph.length + f.length;
    if (size > 8 << 20) { writeSync(fd, Buffer.concat(chunk)); chunk.length = 0; size = 0; }
  }
  if (chunk.length) writeSync(fd, Buffer.concat(chunk));
  closeSync(fd);
}

const rss = (): number => { (globalThis as { gc?: () => void }).gc?.(); return process.memoryUsage().rss; };

/** Child mode: measure one configuration and print one JSON line. */
async function measure(pcap: string, ndpi: boolean): Promise<void> {
  const s = new FileSensor({
    observation: 'bench', idleTimeout: 300, activeTimeout: 1800, maxFlows: 0, maxPayload: 500, snaplen: 0,
    mac: true, fragment: { disabled: false, maxTables: 1024, timeout: 30 }, statusEvents: false,
    ...(ndpi ? { ndpi: { enabled: true } } : {}),
  });
  const before = rss();
  s.open(pcap);
  for (;;) {
    const b = await s.readBatch(65536);
    if (b.done) break;
  }
  const after = rss();
  const st = s.stats();
  process.stdout.write(JSON.stringify({ ndpi, flows: st.flows_active, before, after, ndpi_states: st.ndpi_states, classified: st.ndpi_classified }) + '\n');
}

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci >= 0) return measure(process.argv[ci + 1]!, process.argv[ci + 2] === 'ndpi');
  const flows = Number(arg('flows', '1000000'));
  const work = join(ROOT, '.cache', 'bench');
  mkdirSync(work, { recursive: true });
  const pcap = join(work, `flows-${flows}.pcap`);
  if (!existsSync(pcap)) {
    process.stderr.write(`generating ${pcap} ...\n`);
    writeCapture(pcap, flows);
  }
  process.stdout.write(`machine: ${machineLine()}\ninput: ${pcap} (${flows} one-packet flows: DNS/UDP and HTTP/TCP)\n`);
  for (const mode of ['ndpi', 'off']) {
    const r = spawnSync(process.execPath, ['--no-node-snapshot', '--expose-gc', fileURLToPath(import.meta.url), '--child', pcap, mode], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ndpi: boolean; flows: number; before: number; after: number; ndpi_states: number; classified: number };
    const per = (m.after - m.before) / m.flows;
    process.stdout.write(`nDPI ${m.ndpi ? 'on ' : 'off'}: ${m.flows} active flows, RSS ${(m.before / 2 ** 20).toFixed(0)} -> ${(m.after / 2 ** 20).toFixed(0)} MiB, ` +
      `${per.toFixed(0)} bytes/flow` + (m.ndpi ? `, nDPI states still allocated ${m.ndpi_states}, classified ${m.classified}` : '') + '\n');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
