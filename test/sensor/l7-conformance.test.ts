// Conformance with real captures: over ../shared/data/ndpi/pcap, our TLS events' SNI, JA3C, JA4
// and JA3S per flow are compared with nDPI's results (ndpi/result/*.out, whose values do not
// depend on the nDPI version). Fails below 99% agreement and prints every disagreement. Every
// encapsulation of these captures is decoded now (IP-in-IP, 6in4/4in6, GRE, VXLAN, CAPWAP data), so
// tunnelled TLS counts in the gate like the rest.
// QUIC (UDP lines with JA4 "q..."): our tls events from decrypted client Initials against nDPI's
// SNI, advertised ALPNs, JA3C and JA4, per file, gated at 99% on their own. nDPI 4.x's two JA4 quirks
// (ALPN characters, e3b0c44298fc for an empty extension list) are allowed for and counted.
// DTLS (UDP lines with JA4 "d..."): compared and printed, not gated — nDPI 4.x takes the
// numerically largest supported version (DTLS 1.2's 0xfefd over DTLS 1.3's 0xfefc: "d2" where
// FoxIO's "highest version" is d3), writes 0x0100 (DTLS1_BAD_VER) as "s3", and the GTP-tunnelled
// flow of dtls.pcap is not decapsulated by the core.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsEvent } from '../../streams/schema.js';
import { sharedData, missingShared } from '../helpers.js';
import { endpoint, canonical } from './helpers.js';
import { collect } from './collect.js';

interface Expected { file: string; key: string; line: number; sni?: string; ja3c?: string; ja4?: string; ja3s?: string; alpn?: string }

const FIELD_RE = { sni: /\[Hostname\/SNI: ([^\]]*)\]/, ja3c: /\[JA3C: ([0-9a-f]{32})/, ja4: /\[JA4: ([^\]\s]+)/, ja3s: /\[JA3S: ([0-9a-f]{32})/ } as const;

function pairKey(proto: string, a: string, b: string): string {
  return `${proto} ${[canonical(a), canonical(b)].sort().join(' ')}`;
}

function parseOut(file: string, text: string, quic: boolean | 'dtls' = false): Expected[] {
  const out: Expected[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /^\s*\d+\s+(TCP|UDP)\s+(\S+) (?:<->|->) (\S+) \[/.exec(line);
    if (!m || (!line.includes('[JA3C: ') && !line.includes('[JA4: '))) return;
    const isQuic = m[1] === 'UDP' && /\[JA4: q/.test(line);
    const isDtls = m[1] === 'UDP' && /\[JA4: d/.test(line);
    if (quic === 'dtls' ? !isDtls : quic ? !isQuic : m[1] !== 'TCP') return;
    const e: Expected = { file, line: i + 1, key: pairKey(m[1]!, endpoint(m[2]!), endpoint(m[3]!)) };
    for (const [k, re] of Object.entries(FIELD_RE)) {
      const v = re.exec(line)?.[1];
      if (v !== undefined) e[k as keyof typeof FIELD_RE] = v;
    }
    const alpn = /\[\(Advertised\) ALPNs: ([^\]]*)\]/.exec(line)?.[1];
    if (quic && alpn !== undefined) e.alpn = alpn.replaceAll(';', ',');
    out.push(e);
  });
  return out;
}

// IP-in-IP, 6in4/4in6, GRE, VXLAN and CAPWAP data are decapsulated: no capture is left out
// (a file named here would be compared and reported, not gated).
const NOT_DECAPSULATED = new Set<string>([]);

// dlt_ppp.pcap is a PPP (DLT_PPP) capture, a link type the core's decoder (decode.cc) does not
// take: its one QUIC flow never reaches the parsers (err_unsupported_link). Compared, not gated.
const LINK_NOT_DECODED = new Set(['dlt_ppp.pcap.out']);

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

/**
 * The other nDPI 4.x JA4 values we deliberately do not write, for comparison: an empty extension
 * list hashed as sha256("")[0..12) = e3b0c44298fc (FoxIO: 000000000000), and for QUIC a 2-character
 * first ALPN value ("h3") written as its first character and '0' ("h0").
 */
function ndpi4Variants(x: TlsEvent): string[] {
  const base = ndpi4Ja4(x);
  const out = [base];
  if (base.endsWith('_000000000000')) out.push(base.slice(0, -12) + 'e3b0c44298fc');
  const first = x.alpn.split(',')[0] ?? '';
  if (x.ja4.startsWith('q') && first.length === 2) out.push(x.ja4.slice(0, 8) + first[0] + '0' + x.ja4.slice(10));
  return out;
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
        ['ja4', e.ja4, (x) => (e.ja4 !== undefined && x.ja4 !== e.ja4 && ndpi4Variants(x).includes(e.ja4) ? (alpnQuirk++, e.ja4) : x.ja4)],
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

test('QUIC: SNI/ALPN/JA3C/JA4 from decrypted client Initials agree with nDPI results on its captures (>= 99%)', { skip: !ndpi && missingShared('ndpi'), timeout: 600_000 }, async (t) => {
  const resDir = join(ndpi!, 'result');
  const pcapDir = join(ndpi!, 'pcap');
  let compared = 0;
  let agreed = 0;
  let quirks = 0;
  const perField: Record<string, [number, number]> = { sni: [0, 0], alpn: [0, 0], ja3c: [0, 0], ja4: [0, 0] };
  const notGated = { compared: 0, agreed: 0 };
  const problems: string[] = [];
  for (const out of readdirSync(resDir).filter((f) => f.endsWith('.out')).sort()) {
    const text = readFileSync(join(resDir, out), 'utf8');
    if (!text.includes('[JA4: q')) continue;
    const expected = parseOut(out, text, true);
    const pcap = join(pcapDir, out.slice(0, -4));
    if (expected.length === 0 || !existsSync(pcap)) continue;
    const ours = new Map<string, TlsEvent[]>();
    for (const e of (await collect(pcap)).filter((x): x is TlsEvent => x.type === 'tls')) {
      const k = pairKey('UDP', `${e.saddr}|${e.sport}`, `${e.daddr}|${e.dport}`);
      ours.set(k, [...(ours.get(k) ?? []), e]);
    }
    let fileCompared = 0;
    let fileAgreed = 0;
    const gated = !LINK_NOT_DECODED.has(out);
    for (const e of expected) {
      const cands = ours.get(e.key) ?? [];
      const checks: [string, string | undefined, (x: TlsEvent) => string][] = [
        ['sni', e.sni, (x) => x.sni],
        ['alpn', e.alpn, (x) => x.alpn],
        ['ja3c', e.ja3c, (x) => x.ja3],
        ['ja4', e.ja4, (x) => (e.ja4 !== undefined && x.ja4 !== e.ja4 && ndpi4Variants(x).includes(e.ja4) ? (quirks++, e.ja4) : x.ja4)],
      ];
      for (const [name, want, get] of checks) {
        if (want === undefined) continue;
        fileCompared++;
        const ok = cands.some((c) => get(c) === want);
        if (ok) fileAgreed++;
        if (!gated) {
          notGated.compared++;
          if (ok) notGated.agreed++;
          continue;
        }
        compared++;
        perField[name]![1]++;
        if (ok) {
          agreed++;
          perField[name]![0]++;
        } else {
          problems.push(`${e.file}:${e.line} ${e.key} ${name}: want ${want} got ${cands.length ? cands.map(get).join(' | ') : '(no TLS event)'}`);
        }
      }
    }
    t.diagnostic(`${out.slice(0, -4)}: ${fileAgreed}/${fileCompared}${gated ? '' : ' (not gated: link type not decoded)'}`);
  }
  const pct = compared ? (100 * agreed) / compared : 0;
  t.diagnostic(`QUIC agreement ${agreed}/${compared} = ${pct.toFixed(2)}%; per field ${JSON.stringify(perField)}; JA4 equal only with nDPI 4.x's quirks: ${quirks}`);
  t.diagnostic(`not gated (link type not decoded): ${notGated.agreed}/${notGated.compared} in ${[...LINK_NOT_DECODED].join(', ')}`);
  for (const p of problems) t.diagnostic(`disagreement: ${p}`);
  assert.ok(compared > 300, `only ${compared} QUIC values compared`);
  assert.ok(pct >= 99, `QUIC agreement ${pct.toFixed(2)}% < 99% (${problems.length} disagreements, first: ${problems.slice(0, 20).join('\n')})`);
});

test('DTLS: JA4/JA3C agreement with nDPI results on its captures (printed, not gated)', { skip: !ndpi && missingShared('ndpi'), timeout: 600_000 }, async (t) => {
  const resDir = join(ndpi!, 'result');
  let compared = 0;
  let agreed = 0;
  for (const out of readdirSync(resDir).filter((f) => f.endsWith('.out')).sort()) {
    const text = readFileSync(join(resDir, out), 'utf8');
    if (!text.includes('[JA4: d')) continue;
    const pcap = join(ndpi!, 'pcap', out.slice(0, -4));
    const expected = parseOut(out, text, 'dtls');
    if (expected.length === 0 || !existsSync(pcap)) continue;
    const ours = new Map<string, TlsEvent[]>();
    for (const e of (await collect(pcap)).filter((x): x is TlsEvent => x.type === 'tls')) {
      const k = pairKey('UDP', `${e.saddr}|${e.sport}`, `${e.daddr}|${e.dport}`);
      ours.set(k, [...(ours.get(k) ?? []), e]);
    }
    for (const e of expected) {
      const cands = ours.get(e.key) ?? [];
      for (const [name, want, get] of [['ja4', e.ja4, (x: TlsEvent) => (ndpi4Variants(x).includes(e.ja4 ?? '') ? e.ja4! : x.ja4)], ['ja3c', e.ja3c, (x: TlsEvent) => x.ja3]] as const) {
        if (want === undefined) continue;
        compared++;
        if (cands.some((c) => get(c) === want)) agreed++;
        else t.diagnostic(`differs: ${e.file}:${e.line} ${name}: nDPI ${want}, ours ${cands.length ? cands.map(get).join(' | ') : '(no TLS event)'}`);
      }
    }
  }
  t.diagnostic(`DTLS agreement ${agreed}/${compared} (not gated)`);
  assert.ok(compared > 10, `only ${compared} DTLS values compared`);
});
