// Benchmark: core packets/s on a QUIC-heavy generated capture with and without QUIC Initial
// decryption (flow.quic_decrypt / damselfly-replay --no-quic-decrypt), and memory per QUIC flow.
// The capture (written to the OS temp directory, not kept) holds FLOWS QUIC connections to
// distinct servers, each: the client's Initial (1250 bytes, a Chrome-like ClientHello with its
// own SNI in a CRYPTO frame, protected with the keys of a random 8-byte DCID, synth/quic.ts), the
// server's answer (a 1250-byte long-header Initial, server keys: not decrypted), then 6 short-header
// packets each way (200 bytes). Speed: damselfly-replay (the core without N-API) over the file,
// median of RUNS alternating runs per mode. Memory: FileSensor in a child process over a capture of
// only the client Initials (every flow stays active), RSS after minus before, per flow; once with
// decryption (the QUIC state is freed when the hello is parsed: what stays is the flow's JA4 and
// ids) and once without, plus one-packet non-QUIC UDP flows as the baseline.
// Usage: node dist/bench/quic-initials.js [--flows 30000] [--runs 5] [--write FILE (the capture only)]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSensor } from '../sensor/src/native.js';
import { QUIC_V1, cryptoFrame, initialPacket } from '../synth/quic.js';
import { Rng } from '../synth/rng.js';
import { clientHello } from '../synth/tls.js';
import { machineLine } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REPLAY = join(ROOT, 'sensor', 'native', 'build', 'damselfly-replay');

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

/** Ethernet/IPv4/UDP frame from client i (10.x) to its server (192.0.2.x / 198.18.x). */
function frame(i: number, toServer: boolean, payload: Buffer): Buffer {
  const f = Buffer.alloc(14 + 20 + 8 + payload.length);
  f.writeUInt16BE(0x0800, 12);
  f[6] = 2; f[11] = 1;
  const ip = 14;
  f[ip] = 0x45; f.writeUInt16BE(28 + payload.length, ip + 2); f[ip + 8] = 64; f[ip + 9] = 17;
  const c = [10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff];
  const s = [198, 18, (i >> 8) & 0xff, i & 0xff];
  const [src, dst] = toServer ? [c, s] : [s, c];
  f.set(src, ip + 12); f.set(dst, ip + 16);
  f.writeUInt16BE(csum(f, ip, 20), ip + 10);
  const l4 = ip + 20;
  f.writeUInt16BE(toServer ? 50000 + (i & 4095) : 443, l4);
  f.writeUInt16BE(toServer ? 443 : 50000 + (i & 4095), l4 + 2);
  f.writeUInt16BE(8 + payload.length, l4 + 4);
  payload.copy(f, l4 + 8);
  return f;
}

/** Writes the capture; full: the whole exchange per flow, else only the client Initial. */
function writeCapture(path: string, flows: number, full: boolean, kind: 'quic' | 'udp' = 'quic'): number {
  const rng = new Rng(11);
  const fd = openSync(path, 'w');
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0); hdr.writeUInt16LE(2, 4); hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(65535, 16); hdr.writeUInt32LE(1, 20);
  writeSync(fd, hdr);
  const t0 = 1768471200;
  let chunk: Buffer[] = [];
  let size = 0;
  let packets = 0;
  const rand = (n: number): Buffer => { const b = Buffer.alloc(n); for (let k = 0; k < n; k += 4) b.writeUInt32LE(rng.u32() >>> 0, Math.min(k, n - 4)); return b; };
  const put = (us: number, f: Buffer): void => {
    const ph = Buffer.alloc(16);
    ph.writeUInt32LE(t0 + Math.floor(us / 1e6), 0); ph.writeUInt32LE(us % 1e6, 4);
    ph.writeUInt32LE(f.length, 8); ph.writeUInt32LE(f.length, 12);
    chunk.push(ph, f);
    size += 16 + f.length;
    packets++;
    if (size > 8 << 20) { writeSync(fd, Buffer.concat(chunk)); chunk = []; size = 0; }
  };
  for (let i = 0; i < flows; i++) {
    const us = Math.floor(i * (20e6 / flows));  // all flows start within 20 s: none idles out
    if (kind === 'udp') { put(us, frame(i, true, rand(1200))); continue; }
    const ch = Buffer.from(clientHello(rng, { sni: `h${i.toString(36)}.example.com`, alpn: ['h3'], kind: 'chrome' }).record).subarray(5);
    const dcid = rand(8);
    const init = initialPacket({ version: QUIC_V1, dcid, scid: rand(8), pn: 0, frames: cryptoFrame(0, ch), padTo: 1180 });
    put(us, frame(i, true, init));
    if (!full) continue;
    const srv = rand(1250);
    srv[0] = 0xc1; srv.writeUInt32BE(1, 1); srv[5] = 8;  // long header Initial, v1 (server keys)
    put(us + 20_000, frame(i, false, srv));
    for (let k = 0; k < 6; k++) {
      const a = rand(200); a[0] = 0x40 | (a[0]! & 0x3f);
      const b = rand(200); b[0] = 0x40 | (b[0]! & 0x3f);
      put(us + 21_000 + k * 2000, frame(i, true, a));
      put(us + 22_000 + k * 2000, frame(i, false, b));
    }
  }
  if (chunk.length) writeSync(fd, Buffer.concat(chunk));
  closeSync(fd);
  return packets;
}

const rss = (): number => { (globalThis as { gc?: () => void }).gc?.(); return process.memoryUsage().rss; };

/** Child mode: read the capture with a FileSensor and print RSS before/after and the stats. */
async function measure(pcap: string, decrypt: boolean): Promise<void> {
  const s = new FileSensor({
    observation: 'bench', idleTimeout: 300, activeTimeout: 1800, maxFlows: 0, maxPayload: 500, snaplen: 0,
    mac: true, fragment: { disabled: false, maxTables: 1024, timeout: 30 }, statusEvents: false, quicDecrypt: decrypt,
  });
  const before = rss();
  s.open(pcap);
  // small batches: a batch's event and record buffers are transient (freed to malloc, not always
  // to the OS); with 65,536-packet batches they showed in RSS as ~270 bytes per flow
  for (;;) {
    const b = await s.readBatch(2048);
    if (b.done) break;
  }
  // external buffers of the dropped batches are freed by finalizers after a collection
  for (let i = 0; i < 3; i++) { rss(); await new Promise((r) => setTimeout(r, 20)); }
  const after = rss();
  const st = s.stats();
  process.stdout.write(JSON.stringify({ flows: st.flows_active, before, after, initials: st.quic_initials }) + '\n');
}

function replay(pcap: string, decrypt: boolean): { pps: number; secs: number; stats: string } {
  const r = spawnSync(REPLAY, [...(decrypt ? [] : ['--no-quic-decrypt']), pcap], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`damselfly-replay failed: ${r.stderr}`);
  const m = /time=([\d.]+)s pps=(\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no timing in: ${r.stderr}`);
  const stats = /stats (.*)/.exec(r.stderr)?.[1] ?? '';
  return { secs: Number(m[1]), pps: Number(m[2]), stats };
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci >= 0) return measure(process.argv[ci + 1]!, process.argv[ci + 2] === 'decrypt');
  const flows = Number(arg('flows', '30000'));
  const runs = Number(arg('runs', '5'));
  const only = arg('write', '');
  if (only) { writeCapture(only, flows, true); return; }  // --write FILE: the capture only (profiling)
  const dir = mkdtempSync(join(tmpdir(), 'damselfly-quic-bench-'));
  try {
    const full = join(dir, 'quic-full.pcap');
    const packets = writeCapture(full, flows, true);
    process.stdout.write(`machine: ${machineLine()}\ninput: ${flows} QUIC flows, ${packets} packets (client Initial, server Initial, 6 short-header packets each way)\n`);
    const pps: Record<string, number[]> = { decrypt: [], off: [] };
    let stats = '';
    for (let r = 0; r < runs; r++) {
      for (const mode of r % 2 ? ['off', 'decrypt'] : ['decrypt', 'off']) {
        const x = replay(full, mode === 'decrypt');
        pps[mode]!.push(x.pps);
        if (mode === 'decrypt') stats = x.stats;
      }
    }
    const on = median(pps.decrypt!);
    const off = median(pps.off!);
    process.stdout.write(`damselfly-replay, median of ${runs}: decrypt ${(on / 1e6).toFixed(3)} M packets/s, no decrypt ${(off / 1e6).toFixed(3)} M packets/s ` +
      `(decryption costs ${(100 * (1 - on / off)).toFixed(1)}%; per QUIC flow ${((packets / on - packets / off) / flows * 1e6).toFixed(2)} µs)\n`);
    process.stdout.write(`  runs decrypt ${pps.decrypt!.join(' ')}; off ${pps.off!.join(' ')}\n`);
    process.stdout.write(`  stats (decrypt): ${stats.split(' ').filter((s) => /^(quic|l7_events|flows_created)/.test(s)).join(' ')}\n`);
    const initials = join(dir, 'quic-initials.pcap');
    writeCapture(initials, flows, false);
    const udp = join(dir, 'udp.pcap');
    writeCapture(udp, flows, false, 'udp');
    for (const [name, pcap, mode] of [['QUIC Initial, decrypt', initials, 'decrypt'], ['QUIC Initial, no decrypt', initials, 'off'], ['non-QUIC UDP (baseline)', udp, 'decrypt']] as const) {
      const r = spawnSync(process.execPath, ['--no-node-snapshot', '--expose-gc', fileURLToPath(import.meta.url), '--child', pcap, mode], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
      const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { flows: number; before: number; after: number; initials: number };
      process.stdout.write(`memory, ${name}: ${m.flows} active flows, ${((m.after - m.before) / m.flows).toFixed(0)} bytes/flow (Initials decrypted: ${m.initials})\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
