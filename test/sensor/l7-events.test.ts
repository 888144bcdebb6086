// L7 events (DNS/TLS/HTTP) on generated captures agree exactly with the generator's ground truth
// (TruthFlow.l7): query name/type/rcode/answers, SNI/ALPN/version, method/host/URI/UA/status, and
// one http event per request of a keep-alive connection.
// Also: every TLS flow's end record carries ndpi_ja4/ndpi_ja3s equal to its TLS event's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateCapture, type TruthFlow } from '../../synth/index.js';
import type { SensorEvent, FlowEvent, DnsEvent, TlsEvent, HttpEvent } from '../../streams/schema.js';
import { tempDir } from '../helpers.js';
import { collect } from './collect.js';

const QTYPE: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA' };
const RCODE: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 5: 'REFUSED' };
const key = (f: { proto: string; saddr: string; sport: number; daddr: string; dport: number; stime: number }): string =>
  `${f.proto} ${f.saddr}:${f.sport} > ${f.daddr}:${f.dport} @${f.stime}`;

test('DNS/TLS/HTTP events equal the generator ground truth', async () => {
  const t = tempDir();
  try {
    const gen = await generateCapture({ out: join(t.dir, 'l7.pcap'), packets: 30_000, seed: 7 });
    const events = await collect(gen.path);
    const ends = new Map<string, FlowEvent>();
    for (const e of events) if (e.type === 'flow' && e.kind === 'end') ends.set(key(e), e);
    const byFlow = new Map<string, SensorEvent[]>();
    for (const e of events) {
      if (e.type === 'flow') continue;
      const l = byFlow.get(e.flowid) ?? [];
      l.push(e);
      byFlow.set(e.flowid, l);
    }
    const problems: string[] = [];
    const seen = { dns: 0, tls: 0, http: 0 };
    const claimed = new Set<string>();
    for (const tf of gen.flows as TruthFlow[]) {
      const l7 = tf.l7;
      if (!l7) continue;
      const k = key(tf);
      const f = ends.get(k);
      if (!f) { problems.push(`missing flow ${k}`); continue; }
      claimed.add(f.flowid);
      const evs = byFlow.get(f.flowid) ?? [];
      const want = (cond: boolean, what: string): void => { if (!cond) problems.push(`${k} (${tf.label}): ${what}`); };
      if (l7.dnsQuery !== undefined) {
        seen.dns++;
        const d = evs.filter((e): e is DnsEvent => e.type === 'dns');
        want(d.length === 1, `${d.length} dns events`);
        const e = d[0];
        if (!e) continue;
        want(e.query === l7.dnsQuery, `query ${e.query} want ${l7.dnsQuery}`);
        want(e.qtype === QTYPE[l7.dnsQtype!], `qtype ${e.qtype} want ${l7.dnsQtype}`);
        want(e.rcode === RCODE[l7.dnsRcode!], `rcode ${e.rcode} want ${l7.dnsRcode}`);
        want(JSON.stringify(e.answers.map((a) => a.data)) === JSON.stringify(l7.dnsAnswers ?? []), `answers ${JSON.stringify(e.answers)} want ${JSON.stringify(l7.dnsAnswers)}`);
        for (const a of e.answers) want(a.ttl >= 0 && a.name.length > 0 && a.type.length > 0, `answer ${JSON.stringify(a)}`);
      }
      if (l7.sni !== undefined) {
        seen.tls++;
        const d = evs.filter((e): e is TlsEvent => e.type === 'tls');
        want(d.length === 1, `${d.length} tls events`);
        const e = d[0];
        if (!e) continue;
        want(e.sni === l7.sni, `sni ${e.sni} want ${l7.sni}`);
        want(e.alpn === (l7.alpn ?? []).join(','), `alpn ${e.alpn} want ${String(l7.alpn)}`);
        want(e.tls_version === l7.tlsVersion, `tls_version ${e.tls_version} want ${l7.tlsVersion}`);
        want(/^[0-9a-f]{32}$/.test(e.ja3) && /^[0-9a-f]{32}$/.test(e.ja3s), `ja3 ${e.ja3} ja3s ${e.ja3s}`);
        want(/^t1[23][di]\d{4}[a-z0-9]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/.test(e.ja4), `ja4 ${e.ja4}`);
        want(e.cipher.length > 0, 'no cipher');
        want(f.ndpi_ja4 === e.ja4 && f.ndpi_ja3s === e.ja3s, `flow ndpi_ja4/ja3s ${f.ndpi_ja4} ${f.ndpi_ja3s}`);
      }
      if (l7.httpHost !== undefined) {
        seen.http++;
        const d = evs.filter((e): e is HttpEvent => e.type === 'http');
        // one event per request/response pair of the keep-alive connection; the truth describes the first
        want(d.length === (l7.httpRequests ?? 1), `${d.length} http events, want ${l7.httpRequests ?? 1}`);
        for (const x of d) want(x.host === l7.httpHost && x.user_agent === l7.userAgent && x.status > 0, `http event ${JSON.stringify(x)}`);
        const e = d[0];
        if (!e) continue;
        want(e.host === l7.httpHost, `host ${e.host} want ${l7.httpHost}`);
        want(e.method === l7.httpMethod, `method ${e.method} want ${l7.httpMethod}`);
        want(e.uri === l7.httpUri, `uri ${e.uri} want ${l7.httpUri}`);
        want(e.user_agent === l7.userAgent, `user_agent ${e.user_agent} want ${l7.userAgent}`);
        want(e.status === l7.httpStatus, `status ${e.status} want ${l7.httpStatus}`);
      }
    }
    for (const [id, evs] of byFlow) if (!claimed.has(id)) problems.push(`unexpected ${evs[0]!.type} event ${JSON.stringify(evs[0])}`);
    assert.deepEqual(problems.slice(0, 30), [], `${problems.length} disagreements`);
    assert.ok(seen.dns > 50 && seen.tls > 50 && seen.http > 20, `too few L7 flows in the mix: ${JSON.stringify(seen)}`);
  } finally {
    t.cleanup();
  }
});
