// Seed corpora for the fuzz targets, cut from a small generated capture (synth/, built
// into dist/ by `npm run build`): whole Ethernet frames for fuzz_decode, DNS/TLS/HTTP payloads
// (with the l7_driver.h flags byte) for fuzz_dns/fuzz_tls/fuzz_http, and small whole capture files
// (little/big-endian, µs/ns, cut at record boundaries and inside records) for fuzz_pcapfile.
// Usage: node make-corpus.mjs OUTDIR   (writes OUTDIR/{decode,dns,tls,http,pcapfile}/, OUTDIR/seed.pcap)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const out = resolve(process.argv[2] ?? join(root, '.cache', 'fuzz', 'corpus'));
const { generateCapture } = await import(pathToFileURL(join(root, 'dist', 'synth', 'index.js')).href);
for (const d of ['decode', 'dns', 'tls', 'http', 'pcapfile']) mkdirSync(join(out, d), { recursive: true });
const pcap = join(out, 'seed.pcap');
await generateCapture({ out: pcap, packets: 3000, seed: 3, truth: false });

const buf = readFileSync(pcap);
const count = { decode: 0, dns: 0, tls: 0, http: 0, pcapfile: 0 };
const LIMIT = { decode: 400, dns: 150, tls: 150, http: 150, pcapfile: 60 };
const put = (kind, data) => {
  if (count[kind] >= LIMIT[kind]) return;
  count[kind]++;
  writeFileSync(join(out, kind, createHash('sha1').update(data).digest('hex')), data);
};
let off = 24;
let i = 0;
while (off + 16 <= buf.length) {
  const caplen = buf.readUInt32LE(off + 8);
  const frame = buf.subarray(off + 16, off + 16 + caplen);
  off += 16 + caplen;
  i++;
  if (i % 3 === 0) put('decode', frame);
  let p = 14;
  let et = frame.readUInt16BE(12);
  while (et === 0x8100 && p + 4 <= frame.length) { et = frame.readUInt16BE(p + 2); p += 4; }
  let proto, l4;
  if (et === 0x0800) { proto = frame[p + 9]; l4 = p + (frame[p] & 15) * 4; }
  else if (et === 0x86dd) { proto = frame[p + 6]; l4 = p + 40; }
  else continue;
  if (proto !== 6 && proto !== 17) continue;
  const sport = frame.readUInt16BE(l4), dport = frame.readUInt16BE(l4 + 2);
  const pay = proto === 6 ? l4 + (frame[l4 + 12] >> 4) * 4 : l4 + 8;
  if (pay >= frame.length) continue;
  const data = frame.subarray(pay);
  const port = Math.min(sport, dport);
  const kind = port === 53 ? 'dns' : port === 443 ? 'tls' : port === 80 ? 'http' : undefined;
  if (!kind) continue;
  const flags = (proto === 6 ? 1 : 0) | (sport === port ? 2 : 0) | (i % 2 ? 4 : 0);
  put(kind, Buffer.concat([Buffer.from([flags]), data]));
}
// whole files for fuzz_pcapfile (libFuzzer's -max_len is 4096): the first records of seed.pcap
const files = [];
for (let end = 24, k = 0; end + 16 <= buf.length && end < 4096; k++) {
  const next = end + 16 + buf.readUInt32LE(end + 8);
  if (next > 4096) break;
  end = next;
  if (k % 2 === 0) files.push(buf.subarray(0, end));
}
const bigEndian = (src, nsec) => {
  const b = Buffer.from(src);
  b.writeUInt32BE(nsec ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  b.writeUInt16BE(src.readUInt16LE(4), 4); b.writeUInt16BE(src.readUInt16LE(6), 6);
  for (const at of [8, 12, 16, 20]) b.writeUInt32BE(src.readUInt32LE(at), at);
  for (let o = 24; o + 16 <= src.length; o += 16 + src.readUInt32LE(o + 8)) for (let j = 0; j < 16; j += 4) b.writeUInt32BE(src.readUInt32LE(o + j), o + j);
  return b;
};
for (const f of files.slice(0, 12)) {
  put('pcapfile', f);
  put('pcapfile', bigEndian(f, true));
  put('pcapfile', f.subarray(0, f.length - 7)); // cut inside the last record
}
console.log(`corpus in ${out}: ${JSON.stringify(count)}`);
