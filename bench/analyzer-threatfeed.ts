// Threat-feed load and lookup speed with 1M entries: `node dist/bench/analyzer-threatfeed.js [N]`.
// Uses the analyzer's own FeedIndex (the code that runs in the sandbox), on the host thread.
import { FeedIndex } from '../analyzers/builtin/threat-feed/feeds.js';

const N = Number(process.argv[2] ?? 1_000_000);
let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const ip = () => `${1 + Math.floor(rnd() * 222)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`;

const ips: string[] = [];
const lines: string[] = ['# synthetic ipsum-style feed'];
for (let i = 0; i < N; i++) {
  const a = ip();
  ips.push(a);
  lines.push(`${a}\t${1 + (i % 9)}`);
}
const text = lines.join('\n');
const domText = Array.from({ length: N }, (_, i) => `host${i}.bad${i % 5000}.example`).join('\n');

const ix = new FeedIndex();
let t0 = performance.now();
const r = ix.load({ source: 'ipsum', format: 'ipsum' }, text);
const loadIpMs = performance.now() - t0;
t0 = performance.now();
const rd = ix.load({ source: 'domains', format: 'domain' }, domText);
const loadDomMs = performance.now() - t0;
ix.load({ source: 'cidrs', format: 'ip' }, '10.0.0.0/8\n2001:db8::/32\n198.51.100.0/24\n');

const Q = 2_000_000;
const probes = Array.from({ length: 4096 }, (_, i) => (i % 2 === 0 ? ips[(i * 7919) % ips.length]! : ip()));
let hits = 0;
t0 = performance.now();
for (let i = 0; i < Q; i++) if (ix.matchIp(probes[i & 4095]!)) hits++;
const ipMs = performance.now() - t0;
const dprobes = Array.from({ length: 4096 }, (_, i) => (i % 2 === 0 ? `www.host${(i * 31) % N}.bad${((i * 31) % N) % 5000}.example` : `cdn${i}.good-site.example.com`));
let dh = 0;
t0 = performance.now();
for (let i = 0; i < Q; i++) if (ix.matchDomain(dprobes[i & 4095]!)) dh++;
const domMs = performance.now() - t0;
const mem = process.memoryUsage();
console.log(`threat-feed bench (${N} entries per feed, node ${process.version})`);
console.log(`load ipsum-format IPs : ${r.entries} entries in ${loadIpMs.toFixed(0)} ms (${Math.round(r.entries / (loadIpMs / 1000)).toLocaleString('en')} entries/s)`);
console.log(`load domain list      : ${rd.entries} entries in ${loadDomMs.toFixed(0)} ms`);
console.log(`IP lookups            : ${Math.round(Q / (ipMs / 1000)).toLocaleString('en')} lookups/s (${hits} hits of ${Q}, longest-prefix over /8 /24 /32 and v6)`);
console.log(`domain lookups        : ${Math.round(Q / (domMs / 1000)).toLocaleString('en')} lookups/s (${dh} hits of ${Q}, parent-domain walk)`);
console.log(`heap used             : ${Math.round(mem.heapUsed / 2 ** 20)} MiB`);
