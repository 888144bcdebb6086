// nDPI labels (--ndpi / ndpi.enabled): on a generated capture the DNS/TLS/HTTP flows of the
// generator's ground truth get the matching ndpi_appid on their end records, every per-flow nDPI
// state is released (ndpi_states = 0 after the flush), and nothing is added with nDPI off.
// On nDPI's own captures (../shared/data/ndpi) obvious protocols are labelled, and the agreement
// of our labels with nDPI's newer results (result/*.out) is printed, not gated: the Debian 4.2
// library and the nDPI that wrote the results differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCapture, type TruthFlow } from '../../synth/index.js';
import { FileSensor, endedFlows } from '../../sensor/src/native.js';
import type { FlowEvent } from '../../streams/schema.js';
import { tempDir, sharedData, missingShared } from '../helpers.js';
import { collect } from './collect.js';
import { options } from './helpers.js';

const NDPI = { ndpi: { enabled: true } };
const ends = (evs: Awaited<ReturnType<typeof collect>>): FlowEvent[] =>
  evs.filter((e): e is FlowEvent => e.type === 'flow' && e.kind === 'end');
const key = (f: { proto: string; saddr: string; sport: number; daddr: string; dport: number; stime: number }): string =>
  `${f.proto} ${f.saddr}:${f.sport} > ${f.daddr}:${f.dport} @${f.stime}`;

function assertSane(f: FlowEvent): void {
  assert.equal(typeof f.ndpi_appid, 'string');
  assert.ok(f.ndpi_appid!.length > 0, 'ndpi_appid empty');
  assert.ok(typeof f.ndpi_category === 'string' && f.ndpi_category.length > 0, `category ${f.ndpi_category}`);
  assert.ok(Number.isInteger(f.ndpi_risk_score) && f.ndpi_risk_score! >= 0, `score ${f.ndpi_risk_score}`);
  assert.ok([0, 1, 2, 3].includes(f.ndpi_risk_severity!), `severity ${f.ndpi_risk_severity}`);
  assert.equal(typeof f.ndpi_risk_list, 'string');
  // a risk list goes with a score and a severity, and the reverse
  assert.equal(f.ndpi_risk_list === '', f.ndpi_risk_score === 0, `risk list/score ${f.ndpi_risk_list}/${f.ndpi_risk_score}`);
  assert.equal(f.ndpi_risk_severity === 0, f.ndpi_risk_score === 0);
}

test('generated capture: DNS/TLS/HTTP flows get nDPI labels; states released; off = no fields', async () => {
  const t = tempDir();
  try {
    const gen = await generateCapture({ out: join(t.dir, 'ndpi.pcap'), packets: 20_000, seed: 11 });
    const sensor = new FileSensor(options(NDPI));
    sensor.open(gen.path);
    const flows: FlowEvent[] = [];
    for (;;) {
      const b = await sensor.readBatch(65536);
      flows.push(...endedFlows(b));
      if (b.done) break;
    }
    flows.push(...sensor.flush());
    const stats = sensor.stats();
    assert.equal(stats.ndpi_states, 0, 'per-flow nDPI state left allocated');
    assert.ok(stats.ndpi_classified > 0);
    const byKey = new Map(flows.map((f) => [key(f), f]));
    for (const f of flows) assertSane(f);
    const want = { dns: [0, 0], tls: [0, 0], http: [0, 0] };
    const misses: string[] = [];
    for (const tf of gen.flows as TruthFlow[]) {
      const l7 = tf.l7;
      if (!l7) continue;
      const f = byKey.get(key(tf));
      assert.ok(f, `missing flow ${key(tf)}`);
      const kind = l7.dnsQuery !== undefined ? 'dns' : l7.sni !== undefined ? 'tls' : l7.httpHost !== undefined ? 'http' : undefined;
      if (!kind) continue;
      const master = f.ndpi_appid!.split('.')[0]!;
      const ok = kind === 'dns' ? master === 'DNS' : kind === 'tls' ? master === 'TLS' : master === 'HTTP';
      want[kind][0]++;
      if (ok) want[kind][1]++;
      else misses.push(`${key(tf)} ${kind}: ndpi_appid=${f.ndpi_appid}`);
    }
    console.log(`# nDPI on generated capture: ${JSON.stringify(want)} ([flows, labelled as expected])`);
    for (const m of misses.slice(0, 20)) console.log(`#   ${m}`);
    for (const [k, [n, ok]] of Object.entries(want)) {
      assert.ok(n! >= 5, `too few ${k} flows in the generated capture (${n})`);
      assert.equal(ok, n, `${k}: ${n! - ok!} flows without the expected label`);
    }

    const off = ends(await collect(gen.path));
    assert.ok(off.length > 0);
    for (const f of off) assert.equal(f.ndpi_appid, undefined, 'ndpi_appid present with nDPI off');
  } finally {
    t.cleanup();
  }
});

test('nDPI custom protocol file labels matching flows; a missing file is a one-line error', async () => {
  const t = tempDir();
  try {
    const gen = await generateCapture({ out: join(t.dir, 'c.pcap'), packets: 5_000, seed: 5 });
    const host = (gen.flows as TruthFlow[]).find((f) => f.l7?.sni !== undefined)?.l7?.sni;
    assert.ok(host, 'no TLS flow in the generated capture');
    const protos = join(t.dir, 'protos.txt');
    writeFileSync(protos, `host:"${host}"@DamselflyTest\n`);
    const cats = join(t.dir, 'cats.txt');
    writeFileSync(cats, '');
    const fl = ends(await collect(gen.path, { ndpi: { enabled: true, protocolFile: protos, categoriesFile: cats } }));
    const hits = fl.filter((f) => f.ndpi_appid?.includes('DamselflyTest'));
    assert.ok(hits.length > 0, `no flow labelled DamselflyTest (host ${host})`);
    assert.throws(() => new FileSensor(options({ ndpi: { enabled: true, protocolFile: join(t.dir, 'absent.txt') } })),
      (e: Error) => e.name === 'UserError' && /^nDPI: cannot load protocol file/.test(e.message));
  } finally {
    t.cleanup();
  }
});

// nDPI's result line: "  1  UDP a:p <-> b:q [VLAN: x][proto: 5.126/DNS.Google]..."
function endpoint(s: string): string {
  return s.startsWith('[') ? s.slice(1).replace(']:', '|') : s.replace(/:(\d+)$/, '|$1');
}
/** nDPI's reader writes `b00c::2` where RFC 5952 (and we) write `b00c:0:2`: compare canonical forms. */
const canonical = (ep: string): string => {
  const i = ep.lastIndexOf('|');
  const addr = ep.slice(0, i);
  if (!addr.includes(':') || !URL.canParse(`http://[${addr}]/`)) return ep;
  return `${new URL(`http://[${addr}]/`).hostname.slice(1, -1)}${ep.slice(i)}`;
};
const pairKey = (proto: string, a: string, b: string): string => `${proto} ${[canonical(a), canonical(b)].sort().join(' ')}`;
const ourKey = (f: FlowEvent): string =>
  pairKey(f.proto, `${f.saddr}|${f.sport}`, `${f.daddr}|${f.dport}`);

const ndpiData = sharedData('ndpi');
test('nDPI captures: obvious protocols labelled; agreement with result/*.out reported', { skip: !ndpiData && missingShared('ndpi'), timeout: 900_000 }, async () => {
  const pcapDir = join(ndpiData!, 'pcap');
  const resDir = join(ndpiData!, 'result');
  const label = async (file: string): Promise<FlowEvent[]> => ends(await collect(join(pcapDir, file), NDPI));

  const dns = await label('dns.pcap');
  assert.ok(dns.length > 0);
  for (const f of dns) { assertSane(f); assert.match(f.ndpi_appid!, /^DNS(\.|$)/, `dns.pcap ${ourKey(f)}`); }
  const http = (await label('http.pcapng')).filter((f) => f.dport === 80 || f.sport === 80);
  assert.ok(http.length > 0);
  for (const f of http) { assertSane(f); assert.match(f.ndpi_appid!, /^HTTP(\.|$)/, `http.pcapng ${ourKey(f)}`); }
  const tls = (await label('google_ssl.pcap')).filter((f) => f.dport === 443);
  assert.ok(tls.length > 0);
  for (const f of tls) { assertSane(f); assert.match(f.ndpi_appid!, /^TLS\.Google$/, `google_ssl.pcap ${ourKey(f)}`); }

  // Reported, not gated: exact master.app agreement and master-only agreement per matched flow.
  let compared = 0, exact = 0, master = 0, files = 0;
  const t0 = Date.now();
  for (const out of readdirSync(resDir).filter((f) => f.endsWith('.out')).sort()) {
    const pcap = out.slice(0, -4);
    if (!existsSync(join(pcapDir, pcap))) continue;
    const want = new Map<string, string>();
    for (const line of readFileSync(join(resDir, out), 'utf8').split('\n')) {
      const m = /^\s*\d+\s+(TCP|UDP)\s+(\S+) (?:<->|->) (\S+) .*?\[proto: [\d.]+\/([^\]]+)\]/.exec(line);
      if (m) want.set(pairKey(m[1]!, endpoint(m[2]!), endpoint(m[3]!)), m[4]!);
    }
    if (want.size === 0) continue;
    let ours: FlowEvent[];
    try { ours = await label(pcap); } catch { continue; }
    files++;
    const got = new Map<string, string>();
    for (const f of ours) if (f.proto === 'TCP' || f.proto === 'UDP') got.set(ourKey(f), f.ndpi_appid!);
    for (const [k, v] of want) {
      const g = got.get(k);
      if (g === undefined) continue;
      compared++;
      if (g === v) exact++;
      if (g.split('.')[0] === v.split('.')[0]) master++;
    }
  }
  const pct = (n: number): string => (compared ? (100 * n / compared).toFixed(2) : '0');
  console.log(`# nDPI 4.2 labels vs result/*.out (newer nDPI): ${files} captures, ${compared} flows matched, ` +
    `exact master.app ${pct(exact)}%, master protocol ${pct(master)}% (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  assert.ok(compared > 100, `only ${compared} flows matched against result/*.out`);
});
