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
for (const d of ['decode', 'dns', 'tls', 'quic', 'dtls', 'http', 'pcapfile']) mkdirSync(join(out, d), { recursive: true });
const pcap = join(out, 'seed.pcap');
await generateCapture({ out: pcap, packets: 3000, seed: 3, truth: false });

const buf = readFileSync(pcap);
const count = { decode: 0, dns: 0, tls: 0, quic: 0, dtls: 0, http: 0, pcapfile: 0 };
const LIMIT = { decode: 400, dns: 150, tls: 150, quic: 150, dtls: 150, http: 150, pcapfile: 60 };
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

// fuzz_quic / fuzz_dtls seeds from the TLS ClientHellos above (the generator makes no QUIC or
// DTLS): fuzz_quic takes plaintext frames per Initial (fuzz_quic.cc), so a hello becomes a CRYPTO
// frame, whole or split in two out of order; fuzz_dtls a DTLS record around the same hello.
const varint = (v) => (v < 0x40 ? Buffer.from([v]) : Buffer.from([0x40 | (v >> 8), v & 0xff]));
const crypto = (off, d) => Buffer.concat([Buffer.from([6]), varint(off), varint(d.length), d]);
const chunk = (b) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
const { readdirSync } = await import('node:fs');
let k = 0;
for (const f of readdirSync(join(out, 'tls'))) {
  const rec = readFileSync(join(out, 'tls', f)).subarray(1);
  if (rec[0] !== 22 || rec[5] !== 1 || rec.length < 9) continue;
  const hs = rec.subarray(5, 5 + rec.readUInt16BE(3));
  const h = hs.length >> 1;
  put('quic', Buffer.concat([Buffer.from([k & 3]), chunk(crypto(0, hs))]));
  put('quic', Buffer.concat([Buffer.from([(k & 2) | 1]), chunk(crypto(h, hs.subarray(h))), chunk(Buffer.concat([Buffer.from([1]), crypto(0, hs.subarray(0, h))]))]));
  // DTLS: record header (13) + handshake header (12) + the hello body with an empty cookie
  const body = hs.subarray(4);
  const sid = body[34];
  const dbody = Buffer.concat([Buffer.from([0xfe, 0xfd]), body.subarray(2, 35 + sid), Buffer.from([0]), body.subarray(35 + sid)]);
  const hh = Buffer.alloc(12);
  hh[0] = 1; hh.writeUIntBE(dbody.length, 1, 3); hh.writeUIntBE(dbody.length, 9, 3);
  const rh = Buffer.alloc(13);
  rh[0] = 22; rh[1] = 0xfe; rh[2] = 0xfd; rh.writeUInt16BE(12 + dbody.length, 11);
  put('dtls', Buffer.concat([Buffer.from([k & 8]), rh, hh, dbody]));
  k++;
}
console.log(`corpus in ${out}: ${JSON.stringify(count)}`);
