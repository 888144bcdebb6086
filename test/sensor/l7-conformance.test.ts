// Conformance with real captures: over ../shared/data/ndpi/pcap, our TLS events' SNI, JA3C, JA4
// and JA3S per flow are compared with nDPI's results (ndpi/result/*.out, whose values do not
// depend on the nDPI version). Fails below 99% agreement and prints every disagreement. QUIC
// flows (JA4 "q...") are out of scope: we do not decrypt QUIC Initial packets. Captures whose
// TLS runs inside an encapsulation the core's decoder does not take apart (IP-in-IP, VXLAN,
// CAPWAP) are compared and reported, but not counted in the gated agreement.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsEvent } from '../../streams/schema.js';
import { sharedData, missingShared } from '../helpers.js';
import { endpoint, canonical } from './helpers.js';
import { collect } from './collect.js';

interface Expected { file: string; key: string; line: number; sni?: string; ja3c?: string; ja4?: string; ja3s?: string }

const FIELD_RE = { sni: /\[Hostname\/SNI: ([^\]]*)\]/, ja3c: /\[JA3C: ([0-9a-f]{32})/, ja4: /\[JA4: ([^\]\s]+)/, ja3s: /\[JA3S: ([0-9a-f]{32})/ } as const;

function pairKey(proto: string, a: string, b: string): string {
  return `${proto} ${[canonical(a), canonical(b)].sort().join(' ')}`;
}

function parseOut(file: string, text: string): Expected[] {
  const out: Expected[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /^\s*\d+\s+(TCP|UDP)\s+(\S+) <-> (\S+) \[/.exec(line);
    if (!m || (!line.includes('[JA3C: ') && !line.includes('[JA4: '))) return;
    if (m[1] !== 'TCP' || /\[JA4: q/.test(line)) return; // QUIC: out of scope
    const e: Expected = { file, line: i + 1, key: pairKey(m[1]!, endpoint(m[2]!), endpoint(m[3]!)) };
    for (const [k, re] of Object.entries(FIELD_RE)) {
      const v = re.exec(line)?.[1];
      if (v !== undefined) e[k as keyof typeof FIELD_RE] = v;
    }
    out.push(e);
  });
  return out;
}

// IP-in-IP, 6in4/4in6, GRE and VXLAN are decapsulated; CAPWAP (802.11 frames inside UDP) is not.
const NOT_DECAPSULATED = new Set(['capwap_data.pcapng.out']);

const ndpi = sharedData('ndpi');
/**
 * Deliberate difference: our JA4 takes the first and last characters of the first ALPN value, as
 * the JA4 spec says ("http/1.1" -> "h1"); the nDPI that wrote result/*.out (before nDPI #2915)
 * took the first two ("ht"). This is our JA4 with nDPI 4.x's two characters, for comparison.
 */
function ndpi4Ja4(x: TlsEvent): string {
  const first = x.alpn.split(',')[0] ?? '';
  const alnum = (c: string | undefined): boolean => c !== undefined && /^[0-9A-Za-z]$/.test(c);
  if (first.length < 2 || !alnum(first[0]) || !alnum(first[1]) || !alnum(first.at(-1))) return x.ja4;
  return x.ja4.slice(0, 8) + first[0] + first[1] + x.ja4.slice(10);
}

test('TLS SNI/JA3C/JA4/JA3S agree with nDPI results on its captures (>= 99%)', { skip: !ndpi && missingShared('ndpi'), timeout: 600_000 }, async (t) => {
  const resDir = join(ndpi!, 'result');
  const pcapDir = join(ndpi!, 'pcap');
  let compared = 0;
  let agreed = 0;
  const perField: Record<string, [number, number]> = { sni: [0, 0], ja3c: [0, 0], ja4: [0, 0], ja3s: [0, 0] };
  const problems: string[] = [];
  const tunnelled = { compared: 0, agreed: 0 };
  let alpnQuirk = 0;
  for (const out of readdirSync(resDir).filter((f) => f.endsWith('.out')).sort()) {
    const text = readFileSync(join(resDir, out), 'utf8');
    if (!text.includes('[JA3C: ') && !text.includes('[JA4: t')) continue;
    const expected = parseOut(out, text);
    if (expected.length === 0) continue;
    const pcap = join(pcapDir, out.slice(0, -4));
    if (!existsSync(pcap)) continue;
    const events = (await collect(pcap)).filter((e): e is TlsEvent => e.type === 'tls');
    const ours = new Map<string, TlsEvent[]>();
    for (const e of events) {
      const k = pairKey('TCP', `${e.saddr}|${e.sport}`, `${e.daddr}|${e.dport}`);
      ours.set(k, [...(ours.get(k) ?? []), e]);
    }
    for (const e of expected) {
      const cands = ours.get(e.key) ?? [];
      const checks: [string, string | undefined, (x: TlsEvent) => string][] = [
        ['sni', e.ja3c || e.ja4 ? e.sni : undefined, (x) => x.sni],
        ['ja3c', e.ja3c, (x) => x.ja3],
        ['ja4', e.ja4, (x) => (e.ja4 !== undefined && x.ja4 !== e.ja4 && ndpi4Ja4(x) === e.ja4 ? (alpnQuirk++, e.ja4) : x.ja4)],
        ['ja3s', e.ja3s, (x) => x.ja3s],
      ];
      for (const [name, want, get] of checks) {
        if (want === undefined) continue;
        if (NOT_DECAPSULATED.has(e.file)) {
          tunnelled.compared++;
          if (cands.some((c) => get(c) === want)) tunnelled.agreed++;
          continue;
        }
        compared++;
        perField[name]![1]++;
        if (cands.some((c) => get(c) === want)) {
          agreed++;
          perField[name]![0]++;
        } else {
          problems.push(`${e.file}:${e.line} ${e.key} ${name}: want ${want} got ${cands.length ? cands.map(get).join(' | ') : '(no TLS event)'}`);
        }
      }
    }
  }
  const pct = compared ? (100 * agreed) / compared : 0;
  t.diagnostic(`agreement ${agreed}/${compared} = ${pct.toFixed(2)}%; per field ${JSON.stringify(perField)}`);
  t.diagnostic(`JA4 values equal only with nDPI 4.x's ALPN characters (first two instead of first and last): ${alpnQuirk}`);
  t.diagnostic(`not gated (encapsulation not decoded): ${tunnelled.agreed}/${tunnelled.compared} in ${[...NOT_DECAPSULATED].join(', ')}`);
  for (const p of problems) t.diagnostic(`disagreement: ${p}`);
  assert.ok(compared > 1000, `only ${compared} values compared`);
  assert.ok(pct >= 99, `agreement ${pct.toFixed(2)}% < 99% (${problems.length} disagreements, first: ${problems.slice(0, 20).join('\n')})`);
});
