// Synthetic traffic generator: writes realistic classic-pcap captures with exact ground truth.
//
// Design: every session (DNS query, TLS connection, scan probe, ...) is a Plan whose frame count
// is known before it starts, and whose run() generator yields the timestamp of its next frame and
// writes it when resumed. A min-heap interleaves all live sessions in time order. Planted
// (malicious / bulk) sessions are reserved up front on a schedule; a spawner paces ordinary
// sessions over the capture span and, near the end, picks sessions that exactly fill the
// remaining frame budget. Frames are written straight into a large output buffer.
import * as fs from 'node:fs';
import { Rng } from './rng.js';
import { PcapWriter, RandomPool } from './wire.js';
import { Out, Path, type Host } from './net.js';
import { QT } from './dns.js';
import { World, type Client } from './world.js';
import {
  Engine,
  dnsPlan,
  fragPlan,
  httpPlan,
  ntpPlan,
  pingPlan,
  probePlan,
  schedulePlan,
  seqPlan,
  ssdpPlan,
  tlsPlan,
  type Plan,
  type Run,
  tcpPlan,
} from './sessions.js';
import type { SynthOptions, SynthResult, TruthFlow, PlantedHosts } from './types.js';

export type { SynthOptions, SynthResult, TruthFlow, PlantedHosts, L7Truth } from './types.js';

export const DEFAULT_START_US = Date.UTC(2026, 0, 15, 10, 0, 0) * 1000;

/** Reason the sensor should report for a truth flow (see streams/schema.ts). */
export function expectedReason(f: TruthFlow, idleTimeoutS: number, lastTsOfCapture: number): 'end' | 'rst' | 'idle' | 'eof' {
  if (f.tcpClose === 'rst') return 'rst';
  if (f.tcpClose === 'fin') return 'end';
  return f.etime + idleTimeoutS * 1e6 < lastTsOfCapture ? 'idle' : 'eof';
}

/** Capture span (µs) for a given size: ~60 s at 10k packets, up to an hour at 10M. */
export function spanFor(packets: number): number {
  const s = 60 * Math.pow(Math.max(packets, 1) / 1e4, 0.6);
  return Math.round(Math.min(3600, Math.max(10, s)) * 1e6);
}

const us = (x: number) => Math.max(1, Math.round(x));

const MISC_NAMES = ['wpad.corp.example.com', 'printer01.corp.example.com', '_ldap._tcp.dc01.corp.example.com', 'isatap.corp.example.com'];
const MAIL_ZONES = ['gmail.com', 'example.com', 'corp.example.com', 'outlook.com', 'example.org'];

function randomDnsPlan(e: Engine, c: Client, label = 'dns', v6 = false): Plan {
  const r = e.rng;
  const w = e.world;
  const qtype = r.weighted([QT.A, QT.AAAA, QT.PTR, QT.MX, QT.TXT, QT.NS], [55, 20, 8, 5, 7, 5]);
  let qname: string;
  if (qtype === QT.A || qtype === QT.AAAA) {
    qname = r.chance(0.05) ? r.pick(MISC_NAMES) : r.chance(0.8) ? r.pick(w.tlsServers).name : r.pick(w.httpServers).name;
  } else if (qtype === QT.PTR) {
    const ip = r.chance(0.5) ? r.pick(w.clients).h4.ip : r.chance(0.5) ? '8.8.8.8' : r.pick(w.tlsServers).host.ip;
    qname = ip.split('.').reverse().join('.') + '.in-addr.arpa';
  } else qname = r.pick(MAIL_ZONES);
  return dnsPlan(e, c, { qname, qtype, label, ...(v6 ? { v6: true } : {}), ...(r.chance(0.3) ? { edns: 1232 } : {}) });
}

export const SESSION_KINDS = ['web', 'dns', 'dnstcp', 'tls13', 'tls12', 'http', 'icmp', 'ipv6', 'vlan', 'frag', 'ntp', 'ssdp'] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];

/**
 * How often each kind of ordinary session starts, by profile. `default`: an office network's mix
 * (~23 packets per flow). `many-flows`: mostly short sessions — DNS lookups, pings, single web
 * requests — ~10 packets per flow, the worst case for a flow meter's per-flow work.
 */
export const SESSION_MIXES: Record<'default' | 'many-flows', Record<SessionKind, number>> = {
  'default': { web: 18, dns: 24, dnstcp: 1, tls13: 12, tls12: 8, http: 10, icmp: 2.5, ipv6: 5, vlan: 5, frag: 1, ntp: 2, ssdp: 1 },
  'many-flows': { web: 6, dns: 60, dnstcp: 1, tls13: 3, tls12: 2, http: 6, icmp: 10, ipv6: 5, vlan: 4, frag: 1, ntp: 4, ssdp: 4 },
};

function randomPlan(e: Engine, t: number, weights: readonly number[]): Plan {
  const r = e.rng;
  const w = e.world;
  const kind = r.weighted(SESSION_KINDS, weights);
  const c = w.pickClient();
  const date = t / 1000;
  switch (kind) {
    case 'web': {
      const s = r.pick(w.tlsServers);
      return seqPlan(
        [dnsPlan(e, c, { qname: s.name, qtype: QT.A }), tlsPlan(e, c, { server: s.host, sni: s.name, ver: 13, exchanges: r.int(1, 4) }, date)],
        [us(r.logUniform(200, 5000))],
      );
    }
    case 'dns':
      return randomDnsPlan(e, c);
    case 'dnstcp':
      return dnsPlan(e, c, { qname: r.pick(MAIL_ZONES), qtype: r.pick([QT.TXT, QT.MX, QT.NS]), tcp: true });
    case 'tls13':
    case 'tls12': {
      const s = r.pick(w.tlsServers);
      return tlsPlan(e, c, { server: s.host, sni: s.name, ver: kind === 'tls13' ? 13 : 12, exchanges: r.int(1, 5) }, date);
    }
    case 'http': {
      if (r.chance(0.15)) {
        const is = w.internalServers[0]!;
        return httpPlan(e, c, { server: is.host, host: is.name }, date);
      }
      const s = r.pick(w.httpServers);
      return httpPlan(e, c, { server: s.host, host: s.name }, date);
    }
    case 'icmp': {
      const target = r.chance(0.4) ? r.pick(w.internalServers).host : r.chance(0.5) ? r.pick(w.publicResolvers) : r.pick(w.tlsServers).host;
      return pingPlan(e, c, target, r.int(1, 6));
    }
    case 'ipv6': {
      const c6 = r.pick(w.v6Clients);
      const x = r.float();
      if (x < 0.55) {
        const s = r.pick(w.tlsServers.filter((s) => s.host6));
        return tlsPlan(e, c6, { server: s.host6!, sni: s.name, v6: true, ver: 13, exchanges: r.int(1, 3), label: 'ipv6' }, date);
      }
      if (x < 0.9) return randomDnsPlan(e, c6, 'ipv6', true);
      const s = r.pick(w.tlsServers.filter((s) => s.host6));
      return pingPlan(e, c6, s.host6!, r.int(1, 4), true, 'icmp');
    }
    case 'vlan': {
      const cv = r.pick(w.vlanClients);
      const x = r.float();
      if (x < 0.4) return randomDnsPlan(e, cv, 'vlan');
      if (x < 0.7) {
        const s = r.pick(w.tlsServers);
        return tlsPlan(e, cv, { server: s.host, sni: s.name, ver: r.chance(0.7) ? 13 : 12, exchanges: r.int(1, 3), label: 'vlan' }, date);
      }
      if (x < 0.9) {
        const s = r.pick(w.httpServers);
        return httpPlan(e, cv, { server: s.host, host: s.name, label: 'vlan' }, date);
      }
      return pingPlan(e, cv, r.pick(w.internalServers).host, r.int(1, 4), false, 'vlan');
    }
    case 'frag':
      return fragPlan(e, c);
    case 'ntp':
      return ntpPlan(e, c, t);
    case 'ssdp':
      return ssdpPlan(e, c);
  }
}

/** Paces ordinary sessions over [t0, t0+span] and fills the budget exactly. */
function* spawner(e: Engine, budget: number, t0: number, span: number, weights: readonly number[]): Run {
  const r = e.rng;
  const w = e.world;
  const tick = us(Math.min(100_000, Math.max(5_000, span / 4000)));
  let committed = 0;
  let t = t0;
  while (committed < budget) {
    const frac = (t - t0) / span;
    const target = frac >= 1 ? budget : budget * frac;
    while (committed < target && committed < budget) {
      const rem = budget - committed;
      let plan = randomPlan(e, t, weights);
      if (plan.frames > rem) {
        const c = w.pickClient();
        plan = rem >= 2 ? dnsPlan(e, c, { qname: r.pick(w.tlsServers).name, qtype: QT.A }) : ssdpPlan(e, c);
      }
      committed += plan.frames;
      e.spawn(plan.run(t + r.int(0, tick - 1)));
    }
    t += tick;
    yield t;
  }
  return t;
}

interface Reserved {
  items: { t: number; plan: Plan }[];
  frames: number;
}

function reservePlanted(e: Engine, N: number, t0: number, span: number, planted: PlantedHosts): Reserved {
  const r = e.rng;
  const w = e.world;
  const res: Reserved = { items: [], frames: 0 };
  const cap = Math.floor(N * 0.6);
  const tryAdd = (group: { t: number; plan: Plan }[]): boolean => {
    let f = 0;
    for (const g of group) f += g.plan.frames;
    if (res.frames + f > cap) return false;
    res.frames += f;
    res.items.push(...group);
    return true;
  };
  const at = (lo: number, hi: number) => Math.round(t0 + span * (lo + (hi - lo) * r.float()));

  // --- Coverage: at least one session of each ordinary kind, even in tiny captures.
  {
    const group: { t: number; plan: Plan }[] = [];
    const s6 = w.tlsServers.filter((s) => s.host6);
    const c6 = r.pick(w.v6Clients);
    const d = t0 / 1000;
    const tlsS = r.pick(w.tlsServers);
    const httpS = r.pick(w.httpServers);
    const qinq = w.vlanClients.find((c) => c.tags.length === 4)!;
    const asym = w.vlanClients.find((c) => c.rtags !== c.tags)!;
    const plans: Plan[] = [
      fragPlan(e, w.pickClient()),
      tlsPlan(e, c6, { server: r.pick(s6).host6!, sni: r.pick(s6).name, v6: true, ver: 13, exchanges: 1, label: 'ipv6' }, d),
      randomDnsPlan(e, c6, 'ipv6', true),
      pingPlan(e, c6, r.pick(s6).host6!, 2, true, 'icmp'),
      pingPlan(e, w.pickClient(), r.pick(w.publicResolvers), 2),
      tlsPlan(e, qinq, { server: tlsS.host, sni: tlsS.name, ver: 13, exchanges: 1, label: 'vlan' }, d),
      randomDnsPlan(e, asym, 'vlan'),
      httpPlan(e, w.pickClient(), { server: httpS.host, host: httpS.name, requests: 1, bodyBytes: [r.int(200, 3000)] }, d),
      dnsPlan(e, w.pickClient(), { qname: r.pick(MAIL_ZONES), qtype: QT.MX, tcp: true }),
    ];
    for (const plan of plans) group.push({ t: at(0.01, 0.9), plan });
    const tn = at(0.01, 0.9);
    group.push({ t: tn, plan: ntpPlan(e, w.pickClient(), tn) });
    tryAdd(group);
  }

  // --- Port scan: SYN probes to several internal hosts.
  {
    const nProbes = Math.round(Math.min(20000, Math.max(40, (N * 0.015) / 2.2)));
    const targets = w.internalServers.slice(0, 4);
    const common = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389, 5900, 8080, 8443, 88, 389, 636, 5432, 9100, 631, 515];
    const perTarget = Math.ceil(nProbes / targets.length);
    const group: { t: number; plan: Plan }[] = [];
    let t = at(0.15, 0.5);
    const filteredTarget = targets[3];
    const order: { ti: number; port: number }[] = [];
    targets.forEach((_, ti) => {
      const ports = new Set<number>(common.slice(0, Math.min(common.length, perTarget)));
      while (ports.size < perTarget) ports.add(r.chance(0.7) ? r.int(1, 1024) : r.int(1025, 65535));
      for (const port of ports) order.push({ ti, port });
    });
    for (let i = order.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const sports = targets.map(() => r.int(40000, 65000));
    for (const { ti, port } of order.slice(0, nProbes)) {
      const tg = targets[ti]!;
      const state = tg.open.includes(port) ? 'open' : tg === filteredTarget || r.chance(0.05) ? 'filtered' : 'closed';
      group.push({ t, plan: probePlan(e, w.scanner, tg.host, sports[ti]!, port, state) });
      t += us(r.logUniform(150, 2500));
    }
    tryAdd(group);
  }

  // --- DGA lookups: bursts of NXDOMAIN queries for random-looking names.
  {
    const n = Math.round(Math.min(4000, Math.max(15, N * 0.004)));
    const group: { t: number; plan: Plan }[] = [];
    const names = new Set<string>();
    let t = at(0.02, 0.1);
    while (names.size < n) {
      const burst = Math.min(n - names.size, r.int(5, 15));
      for (let i = 0; i < burst; i++) {
        let d = w.dgaName();
        while (names.has(d)) d = w.dgaName();
        names.add(d);
        group.push({ t, plan: dnsPlan(e, w.dgaHost, { qname: d, qtype: QT.A, nx: true, label: 'dga', malicious: true, server: w.resolvers[0]! }) });
        t += us(r.logUniform(20_000, 600_000));
      }
      t += us(Math.max(1e6, (span * 0.85) / Math.max(1, n / 10)) * (0.5 + r.float()));
      if (t > t0 + span * 0.97) t = at(0.05, 0.95);
    }
    if (tryAdd(group)) planted.dgaDomains = [...names];
  }

  // --- Beacon: one host → one C2 every P seconds (±1%), small TLS exchange each time.
  {
    const spanS = span / 1e6;
    const P = spanS >= 600 ? r.int(30, 60) : Math.min(30, Math.max(2, spanS / 12));
    const count = Math.max(3, Math.floor((spanS * 0.95) / P));
    const sni = `cdn-${r.hex(6)}.metrics-sync.net`;
    const group: { t: number; plan: Plan }[] = [];
    const tb = t0 + r.int(0, Math.round(P * 1e6 * 0.5));
    for (let i = 0; i < count; i++) {
      const t = Math.round(tb + i * P * 1e6 + P * 1e6 * 0.01 * (2 * r.float() - 1));
      group.push({
        t,
        plan: tlsPlan(
          e,
          w.beaconHost,
          {
            server: w.beaconC2,
            sni,
            ver: 12,
            kind: 'legacy',
            alpn: [],
            exchanges: 1,
            reqBytes: [r.int(180, 200)],
            respBytes: [r.int(60, 80)],
            close: 'fin-c3',
            label: 'beacon',
            malicious: true,
          },
          t / 1000,
        ),
      });
    }
    tryAdd(group);
  }

  // --- Exfiltration: one host uploads tens of MB (scaled) of high-entropy data.
  {
    const bytes = Math.max(64 * 1024, Math.round(N * 0.02) * 1448);
    const t = at(0.3, 0.6);
    const plan = tlsPlan(
      e,
      w.exfilHost,
      { server: w.exfilDest, sni: `upload.${r.hex(4)}-filesync.net`, ver: 13, kind: 'chrome', upload: bytes, close: 'fin-c3', label: 'exfil', malicious: true, rate: r.logUniform(4e6, 1.2e7) },
      t / 1000,
    );
    tryAdd([{ t, plan }]);
  }

  // --- Bad IP contacts.
  {
    const n = Math.round(Math.min(60, Math.max(3, N / 15000)));
    const group: { t: number; plan: Plan }[] = [];
    for (let i = 0; i < n; i++) {
      const bad = w.badIps[i % w.badIps.length]!;
      const c = w.pickClient();
      const t = at(0.02, 0.95);
      const x = r.float();
      let plan: Plan;
      if (x < 0.4) plan = tlsPlan(e, c, { server: bad, sni: `${r.hex(8)}.dyn-update.info`, ver: 12, kind: 'legacy', exchanges: r.int(1, 3), label: 'badip', malicious: true }, t / 1000);
      else if (x < 0.7)
        plan = httpPlan(e, c, { server: bad, host: bad.ip, dport: 8080, method: 'POST', uri: `/gate.php?id=${r.hex(12)}`, reqBody: r.bytes(r.int(64, 400)), binary: true, ua: 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)', status: 200, requests: 1, label: 'badip', malicious: true }, t / 1000);
      else plan = synOnlyPlan(e, c, bad, r.int(1, 3));
      group.push({ t, plan });
    }
    tryAdd(group);
  }

  // --- Benign bulk downloads.
  {
    const k = 1 + Math.floor(N / 500_000);
    const per = Math.max(20, Math.round((N * 0.05) / 1.5 / k)) * 1448;
    const group: { t: number; plan: Plan }[] = [];
    for (let i = 0; i < k; i++) {
      const c = w.pickClient();
      const t = at(0.05, 0.9);
      const size = Math.round(per * (0.7 + 0.6 * r.float()));
      if (r.chance(0.5)) {
        const s = w.byName.get(r.pick(['objects.githubusercontent.com', 'update.googleapis.com', 'files.pythonhosted.org']))!;
        group.push({ t, plan: tlsPlan(e, c, { server: s.host, sni: s.name, ver: 13, exchanges: 1, respBytes: [size], close: 'fin-c3', label: 'bulk', rate: r.logUniform(8e6, 4e7) }, t / 1000) });
      } else {
        const s = w.byName.get(r.pick(['archive.ubuntu.com', 'deb.debian.org', 'ctldl.windowsupdate.com']))!;
        group.push({ t, plan: httpPlan(e, c, { server: s.host, host: s.name, requests: 1, bodyBytes: [size], binary: true, status: 200, uri: `/pool/main/${r.hex(8)}.deb`, close: 'fin-c3', label: 'bulk', rate: r.logUniform(8e6, 4e7) }, t / 1000) });
      }
    }
    tryAdd(group);
  }
  return res;
}


function synOnlyPlan(e: Engine, c: Client, h: Host, n: number): Plan {
  const p = new Path(c.h4, h, c.router, c.router, c.tags, c.rtags, e.rng);
  return tcpPlan(e, {
    p,
    sport: World.nextPort(c, e.rng),
    dport: e.rng.pick([443, 8443, 4443]),
    tsOpt: c.tsOpt,
    open: { synOnly: n },
    steps: [],
    close: 'none',
    closeGap: 0,
    rttS: 0,
    rttC: 0,
    label: 'badip',
    malicious: true,
  });
}

export async function generateCapture(opts: SynthOptions): Promise<SynthResult> {
  const N = Math.max(0, Math.floor(opts.packets));
  const seed = opts.seed ?? 1;
  const t0 = opts.startTime ?? DEFAULT_START_US;
  const rng = new Rng(seed);
  const pool = new RandomPool(rng);
  const w = new PcapWriter(opts.out, opts.snaplen ?? 262144);
  const world = new World(rng, Math.round(Math.min(800, Math.max(24, N / 2500))));
  const e = new Engine(new Out(w, rng, pool), rng, world);
  const span = spanFor(N);
  const planted: PlantedHosts = {
    scanner: world.scanner.h4.ip,
    dgaHost: world.dgaHost.h4.ip,
    beaconHost: world.beaconHost.h4.ip,
    beaconC2: world.beaconC2.ip,
    exfilHost: world.exfilHost.h4.ip,
    exfilDest: world.exfilDest.ip,
    badIps: world.badIps.map((h) => h.ip),
    dgaDomains: [],
  };
  const reserved = N >= 200 ? reservePlanted(e, N, t0, span, planted) : { items: [], frames: 0 };
  if (reserved.items.length) e.spawn(schedulePlan(e, reserved.items).run(t0));
  const mix = SESSION_MIXES[opts.mix ?? 'default'];
  e.spawn(spawner(e, N - reserved.frames, t0, span, SESSION_KINDS.map((k) => mix[k])));
  const drive = async () => {
    for (;;) {
      e.run(N);
      if (w.wantFlush()) await w.rotate();
      else return;
    }
  };
  await drive();
  // Safety net: never leave the file short (should not trigger; plans count their frames exactly).
  while (w.frames < N) {
    e.spawn(ssdpPlan(e, world.pickClient()).run(Math.max(w.lastTs, t0) + 1000));
    await drive();
  }
  await w.close();
  const flows = e.flows.map((f) => f.finalize()).filter((f) => f.spkts + f.dpkts > 0);
  const result: SynthResult = {
    path: opts.out,
    packets: w.frames,
    bytes: w.fileBytes,
    firstTs: w.firstTs,
    lastTs: w.lastTs,
    flows,
    plantedHosts: planted,
  };
  if (opts.truth !== false) {
    result.truthPath = opts.out + '.truth.json';
    writeTruth(result.truthPath, result);
  }
  return result;
}

/** Stream the truth JSON (flows one by one; works for millions of flows). */
function writeTruth(p: string, res: SynthResult): void {
  const fd = fs.openSync(p, 'w');
  try {
    const head = { path: res.path, packets: res.packets, bytes: res.bytes, firstTs: res.firstTs, lastTs: res.lastTs, plantedHosts: res.plantedHosts };
    let s = JSON.stringify(head).slice(0, -1) + ',"flows":[\n';
    const n = res.flows.length;
    for (let i = 0; i < n; i++) {
      s += JSON.stringify(res.flows[i]) + (i + 1 < n ? ',\n' : '\n');
      if (s.length > 1 << 20) {
        fs.writeSync(fd, s);
        s = '';
      }
    }
    s += ']}\n';
    fs.writeSync(fd, s);
  } finally {
    fs.closeSync(fd);
  }
}
