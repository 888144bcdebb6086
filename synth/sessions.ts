// Session generators. A Plan knows its exact frame count before it starts (so the capture can
// stop exactly at the requested size with every session complete) and a run() generator that
// yields the time of its next frame and writes that frame when resumed.
import type { Rng } from './rng.js';
import { A, C, E, F, Flow, P, Path, R, S, TcpConn, UdpDatagram, sendIcmp, type Host, type Out } from './net.js';
import { bytes, CatMsg, RecordsMsg, type Msg } from './msg.js';
import { dnsQuery, dnsResponse, QT, tcpFramed, type QueryOpts, type RR } from './dns.js';
import * as tls from './tls.js';
import * as http from './http.js';
import { World, type Client } from './world.js';
import type { L7Truth, TruthFlow } from './types.js';

/** Yields next frame time (µs); returns the time of its last frame. */
export type Run = Generator<number, number, void>;

export interface Plan {
  frames: number;
  run(t0: number): Run;
}

interface HeapItem {
  t: number;
  id: number;
  gen: Run;
}

/** Min-heap keyed by (t, id). */
class Heap {
  private a: HeapItem[] = [];
  get size(): number {
    return this.a.length;
  }
  private less(x: HeapItem, y: HeapItem): boolean {
    return x.t < y.t || (x.t === y.t && x.id < y.id);
  }
  push(it: HeapItem): void {
    const a = this.a;
    a.push(it);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): HeapItem | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

export class Engine {
  readonly flows: Flow[] = [];
  private heap = new Heap();
  private seq = 0;
  now = 0;
  constructor(
    readonly o: Out,
    readonly rng: Rng,
    readonly world: World,
  ) {}

  spawn(gen: Run): void {
    const r = gen.next();
    if (r.done) return;
    this.heap.push({ t: Math.max(r.value, this.now), id: this.seq++, gen });
  }

  newFlow(t: Partial<TruthFlow> & Pick<TruthFlow, 'proto' | 'saddr' | 'daddr' | 'sport' | 'dport' | 'label'>): Flow {
    const f = new Flow({
      proto: t.proto,
      saddr: t.saddr,
      daddr: t.daddr,
      sport: t.sport,
      dport: t.dport,
      spkts: 0,
      dpkts: 0,
      sbytes: 0,
      dbytes: 0,
      stime: 0,
      etime: 0,
      iflags: '',
      uflags: '',
      svlan: 0,
      dvlan: 0,
      rtt: 0,
      tcpClose: 'none',
      label: t.label,
      malicious: t.malicious ?? false,
      ...(t.l7 ? { l7: t.l7 } : {}),
    });
    this.flows.push(f);
    return f;
  }

  /** Run until the heap is empty, `maxFrames` frames were written, or the writer wants a flush. */
  run(maxFrames: number): void {
    const w = this.o.w;
    for (;;) {
      if (w.frames >= maxFrames || w.wantFlush()) return;
      const it = this.heap.pop();
      if (!it) return;
      this.now = it.t;
      const r = it.gen.next();
      if (!r.done) {
        if (r.value < it.t) throw new Error(`session went back in time: ${r.value} < ${it.t}`);
        it.t = r.value;
        this.heap.push(it);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

const us = (x: number) => Math.max(1, Math.round(x));

function path(e: Engine, c: Client, h: Host, v6 = false): Path {
  const ch = v6 ? c.h6! : c.h4;
  const peer = h.mac[0]! & 1 ? h.mac : c.router; // multicast destinations keep their group MAC
  return new Path(ch, h, peer, c.router, c.tags, c.rtags, e.rng);
}

function isInternal(h: Host): boolean {
  return h.ip.startsWith('10.') || h.ip.startsWith('2001:db8:1:');
}

/** Sensor-side delay until the server's answer (µs). */
function rttServer(r: Rng, h: Host): number {
  return us(isInternal(h) ? r.logUniform(150, 1500) : r.logUniform(6000, 140000));
}
/** Sensor-side delay until the client's answer (µs). */
function rttClient(r: Rng): number {
  return us(r.logUniform(40, 900));
}

function mssFor(p: Path, tsOpt: boolean): number {
  return (p.v6 ? 1440 : 1460) - (tsOpt ? 12 : 0);
}

function segs(len: number, mss: number): number {
  return Math.ceil(len / mss);
}

/** Split `total` bytes into TLS record bodies of at most `max`. */
function recordSizes(total: number, max = 16401): number[] {
  const out: number[] = [];
  while (total > max) {
    out.push(max);
    total -= max;
  }
  if (total > 0) out.push(Math.max(total, 22));
  return out;
}

function clampGap(r: Rng, mean: number, cap: number): number {
  return us(Math.min(r.exp(mean), cap));
}

// ---------------------------------------------------------------------------------------------
// TCP sessions

export type CloseKind = 'fin-c3' | 'fin-s3' | 'fin-c4' | 'rst-c' | 'rst-s' | 'none';
const CLOSE_FRAMES: Record<CloseKind, number> = { 'fin-c3': 3, 'fin-s3': 3, 'fin-c4': 4, 'rst-c': 1, 'rst-s': 1, none: 0 };

export interface TcpStep {
  fromCli: boolean;
  msg: Msg;
  /** µs between the previous frame and this message's first segment. */
  gap: number;
  /** Sending rate (bytes/s) for multi-segment messages. */
  rate?: number;
}

export interface TcpSpec {
  p: Path;
  sport: number;
  dport: number;
  tsOpt: boolean;
  ecn?: boolean;
  /** 'full' 3-way handshake, or n unanswered SYNs (1 s, 2 s backoff). */
  open: 'full' | { synOnly: number };
  steps: TcpStep[];
  close: CloseKind;
  closeGap: number;
  rttS: number;
  rttC: number;
  label: string;
  malicious?: boolean;
  l7?: L7Truth;
}

export function tcpPlan(e: Engine, spec: TcpSpec): Plan {
  const mss = mssFor(spec.p, spec.tsOpt);
  let frames = spec.open === 'full' ? 3 : spec.open.synOnly;
  if (spec.open === 'full') {
    for (const s of spec.steps) {
      const k = segs(s.msg.len, mss);
      frames += k + Math.ceil(k / 2);
    }
    frames += CLOSE_FRAMES[spec.close];
  }
  return { frames, run: (t0) => runTcp(e, spec, t0) };
}

function* runTcp(e: Engine, sp: TcpSpec, t0: number): Run {
  const p = sp.p;
  const flow = e.newFlow({
    proto: 'TCP',
    saddr: p.c.ip,
    daddr: p.s.ip,
    sport: sp.sport,
    dport: sp.dport,
    label: sp.label,
    malicious: sp.malicious ?? false,
    ...(sp.l7 ? { l7: sp.l7 } : {}),
  });
  const conn = new TcpConn(e.o, p, flow, sp.sport, sp.dport, sp.tsOpt);
  let t = t0;
  if (sp.open !== 'full') {
    let back = 1_000_000;
    for (let i = 0; i < sp.open.synOnly; i++) {
      if (i > 0) {
        t += back;
        back *= 2;
      }
      yield t;
      conn.cSeq = conn.cIsn;
      conn.send(t, true, S);
    }
    return t;
  }
  yield t;
  conn.send(t, true, sp.ecn ? S | E | C : S);
  t += sp.rttS;
  yield t;
  conn.send(t, false, sp.ecn ? S | A | E : S | A);
  t += sp.rttC;
  yield t;
  conn.send(t, true, A);
  for (const st of sp.steps) t = yield* transfer(e, conn, st, t + st.gap, st.fromCli ? sp.rttS : sp.rttC);
  if (sp.close !== 'none') t = yield* closeTcp(conn, sp.close, t + sp.closeGap, sp.rttS, sp.rttC, e.rng);
  return t;
}

/** Send one message as MSS-sized segments; the receiver ACKs every second segment and the last. */
function* transfer(e: Engine, conn: TcpConn, st: TcpStep, tStart: number, ackDelay: number): Generator<number, number, void> {
  const msg = st.msg;
  const mss = conn.mss;
  const n = segs(msg.len, mss);
  const fromCli = st.fromCli;
  const spacing = st.rate ? (mss / st.rate) * 1e6 : 30;
  const r = e.rng;
  let pendT: number[] = [];
  let pendA: number[] = [];
  let head = 0;
  let t = tStart;
  let sent = 0;
  let last = t;
  for (let i = 0; i < n; i++) {
    if (i > 0) t += us(spacing * (0.7 + 0.6 * r.float()));
    while (head < pendT.length && pendT[head]! <= t) {
      const ta = pendT[head]!;
      yield ta;
      conn.send(ta, !fromCli, A, null, 0, pendA[head]!);
      head++;
    }
    if (head > 4096) {
      pendT = pendT.slice(head);
      pendA = pendA.slice(head);
      head = 0;
    }
    const len = Math.min(mss, msg.len - sent);
    yield t;
    conn.send(t, fromCli, i === n - 1 ? P | A : A, msg, len);
    sent += len;
    last = t;
    if (i % 2 === 1 || i === n - 1) {
      const prev = pendT.length > head ? pendT[pendT.length - 1]! : t;
      pendT.push(Math.max(prev, t + us(ackDelay * (0.9 + 0.2 * r.float()))));
      pendA.push(fromCli ? conn.cSeq : conn.sSeq);
    }
  }
  while (head < pendT.length) {
    const ta = Math.max(pendT[head]!, last);
    yield ta;
    conn.send(ta, !fromCli, A, null, 0, pendA[head]!);
    last = ta;
    head++;
  }
  return last;
}

function* closeTcp(conn: TcpConn, kind: CloseKind, t: number, rttS: number, rttC: number, r: Rng): Generator<number, number, void> {
  const f = conn.flow.t;
  switch (kind) {
    case 'fin-c3':
      yield t;
      conn.send(t, true, F | A);
      t += rttS;
      yield t;
      conn.send(t, false, F | A);
      t += rttC;
      yield t;
      conn.send(t, true, A);
      f.tcpClose = 'fin';
      return t;
    case 'fin-s3':
      yield t;
      conn.send(t, false, F | A);
      t += rttC;
      yield t;
      conn.send(t, true, F | A);
      t += rttS;
      yield t;
      conn.send(t, false, A);
      f.tcpClose = 'fin';
      return t;
    case 'fin-c4':
      yield t;
      conn.send(t, true, F | A);
      t += rttS;
      yield t;
      conn.send(t, false, A);
      t += us(r.logUniform(50, 20000));
      yield t;
      conn.send(t, false, F | A);
      t += rttC;
      yield t;
      conn.send(t, true, A);
      f.tcpClose = 'fin';
      return t;
    case 'rst-c':
      yield t;
      conn.send(t, true, R | A);
      f.tcpClose = 'rst';
      return t;
    case 'rst-s':
      yield t;
      conn.send(t, false, R | A);
      f.tcpClose = 'rst';
      return t;
    case 'none':
      return t;
  }
}

function pickClose(r: Rng): CloseKind {
  return r.weighted<CloseKind>(['fin-c3', 'fin-s3', 'fin-c4', 'rst-c', 'rst-s', 'none'], [40, 14, 14, 16, 4, 12]);
}

// ---------------------------------------------------------------------------------------------
// UDP sessions

interface UdpStep {
  fromCli: boolean;
  payload: Uint8Array;
  gap: number;
}

function udpPlan(e: Engine, p: Path, sport: number, dport: number, steps: UdpStep[], label: string, l7?: L7Truth, malicious = false): Plan {
  let frames = 0;
  for (const s of steps) frames += p.v6 ? 1 : Math.ceil((8 + s.payload.length) / 1480);
  return {
    frames,
    run: function* (t0: number): Run {
      const flow = e.newFlow({ proto: 'UDP', saddr: p.c.ip, daddr: p.s.ip, sport, dport, label, malicious, ...(l7 ? { l7 } : {}) });
      let t = t0;
      let first = true;
      for (const s of steps) {
        if (!first) t += s.gap;
        first = false;
        const d = new UdpDatagram(e.o, p, flow, s.fromCli, s.fromCli ? sport : dport, s.fromCli ? dport : sport, s.payload);
        for (let i = 0; i < d.frags; i++) {
          if (i > 0) t += us(e.rng.int(2, 12));
          yield t;
          d.emit(t, i);
        }
      }
      return t;
    },
  };
}

export interface DnsOpts {
  qname: string;
  qtype: number;
  v6?: boolean;
  server?: Host;
  tcp?: boolean;
  edns?: number;
  label?: string;
  malicious?: boolean;
  nx?: boolean;
  bigTxt?: boolean;
}

export function dnsPlan(e: Engine, c: Client, o: DnsOpts): Plan {
  const r = e.rng;
  const w = e.world;
  const server = o.server ?? (o.v6 ? w.resolver6 : r.chance(0.85) ? r.pick(w.resolvers) : r.pick(w.publicResolvers));
  const p = path(e, c, server, o.v6);
  const q: QueryOpts = { id: r.int(0, 65535), qname: o.qname, qtype: o.qtype, ...(o.edns ? { edns: o.edns } : {}) };
  let answers: RR[];
  let rcode: number;
  let authority: RR[];
  let text: string[];
  if (o.nx) {
    const tld = o.qname.split('.').pop()!;
    answers = [];
    rcode = 3;
    authority = [{ name: tld, ttl: 900, rd: { type: 6, mname: `a.nic.${tld}`, rname: `support.nic.${tld}`, serial: r.int(1700000000, 1760000000) } }];
    text = [];
  } else if (o.bigTxt) {
    const b = w.bigTxt(o.qname);
    answers = b.answers;
    rcode = 0;
    authority = [];
    text = b.text;
  } else {
    ({ answers, rcode, authority, text } = w.resolve(o.qname, o.qtype));
  }
  const query = dnsQuery(q);
  const resp = dnsResponse(q, answers, rcode, authority);
  const l7: L7Truth = { dnsQuery: o.qname, dnsQtype: o.qtype, dnsAnswers: text, dnsRcode: rcode };

  const delay = us(r.chance(0.7) ? r.logUniform(150, 1500) : r.logUniform(4000, 70000));
  const sport = World.nextPort(c, r);
  const label = o.label ?? 'dns';
  if (!o.tcp) {
    return udpPlan(e, p, sport, 53, [{ fromCli: true, payload: query, gap: 0 }, { fromCli: false, payload: resp, gap: delay }], label, l7, o.malicious ?? false);
  }
  return tcpPlan(e, {
    p,
    sport,
    dport: 53,
    tsOpt: c.tsOpt,
    open: 'full',
    steps: [
      { fromCli: true, msg: bytes(tcpFramed(query)), gap: us(r.logUniform(20, 300)) },
      { fromCli: false, msg: bytes(tcpFramed(resp)), gap: delay },
    ],
    close: 'fin-c3',
    closeGap: us(r.logUniform(100, 5000)),
    rttS: rttServer(r, server),
    rttC: rttClient(r),
    label,
    malicious: o.malicious ?? false,
    l7,
  });
}

// ---------------------------------------------------------------------------------------------
// TLS

export interface TlsOpts {
  server: Host;
  sni: string;
  v6?: boolean;
  ver: 12 | 13;
  kind?: tls.ClientKind;
  alpn?: string[];
  exchanges?: number;
  /** Per-exchange response bytes (application data). */
  respBytes?: number[];
  reqBytes?: number[];
  /** Upload this many bytes of application data in one go (exfil). */
  upload?: number;
  close?: CloseKind;
  label?: string;
  malicious?: boolean;
  rate?: number;
  dport?: number;
  think?: number;
}

export function tlsPlan(e: Engine, c: Client, o: TlsOpts, dateMs: number): Plan {
  const r = e.rng;
  const kind: tls.ClientKind = o.kind ?? (o.ver === 12 && r.chance(0.5) ? 'legacy' : c.os === 'linux' && r.chance(0.5) ? 'firefox' : 'chrome');
  const alpn = o.alpn ?? (kind === 'legacy' ? (r.chance(0.5) ? ['http/1.1'] : []) : ['h2', 'http/1.1']);
  const p = path(e, c, o.server, o.v6);
  const ch = tls.clientHello(r, { sni: o.sni, alpn, kind });
  const steps: TcpStep[] = [];
  const rate = o.rate ?? r.logUniform(1.5e6, 2.5e7);
  const rttS = rttServer(r, o.server);
  const rttC = rttClient(r);
  const srvProc = () => us(r.logUniform(100, 4000));
  steps.push({ fromCli: true, msg: bytes(ch.record), gap: us(r.logUniform(80, 1500)) });
  const chosenAlpn = alpn.length ? alpn[0] : undefined;
  if (o.ver === 13) {
    const cipher = r.pick([0x1301, 0x1302, 0x1303]);
    const sh = tls.serverHello13(r, { tls13: true, cipher, sessionId: ch.sessionId });
    const enc = new RecordsMsg(0x17, [r.int(25, 45) + 17, r.int(1800, 4200), r.int(80, 280), 53]);
    steps.push({ fromCli: false, msg: new CatMsg([bytes(sh), enc]), gap: srvProc(), rate });
    steps.push({ fromCli: true, msg: new CatMsg([bytes(tls.CCS), new RecordsMsg(0x17, [53])]), gap: us(r.logUniform(200, 3000)) });
    steps.push({ fromCli: false, msg: new RecordsMsg(0x17, [r.int(230, 260), r.int(230, 260)]), gap: us(r.logUniform(100, 2000)) });
  } else {
    const cipher = r.pick([0xc02b, 0xc02c, 0xcca9]);
    const sf = tls.serverFlight12(r, { tls13: false, cipher, sessionId: ch.sessionId, ...(chosenAlpn ? { alpn: chosenAlpn } : {}) }, o.sni, dateMs, e.world.certs);
    steps.push({ fromCli: false, msg: bytes(sf), gap: srvProc(), rate });
    steps.push({ fromCli: true, msg: bytes(tls.clientFinish12(r)), gap: us(r.logUniform(300, 4000)) });
    steps.push({ fromCli: false, msg: bytes(tls.serverFinish12(r)), gap: srvProc() });
  }
  const think = o.think ?? 1_500_000;
  if (o.upload !== undefined) {
    steps.push({ fromCli: true, msg: new RecordsMsg(0x17, recordSizes(o.upload)), gap: us(r.logUniform(500, 20000)), rate });
    steps.push({ fromCli: false, msg: new RecordsMsg(0x17, [r.int(60, 300)]), gap: srvProc() });
  } else {
    const n = o.exchanges ?? 1;
    for (let i = 0; i < n; i++) {
      const req = o.reqBytes?.[i] ?? Math.round(r.logUniform(90, 1800));
      const resp = o.respBytes?.[i] ?? Math.round(r.chance(0.02) ? r.logUniform(100000, 800000) : r.logUniform(150, 40000));
      steps.push({ fromCli: true, msg: new RecordsMsg(0x17, [req]), gap: i === 0 ? us(r.logUniform(100, 3000)) : clampGap(r, think, 15e6) });
      steps.push({ fromCli: false, msg: new RecordsMsg(0x17, recordSizes(resp, r.pick([1400, 4096, 16401]))), gap: srvProc(), rate });
    }
  }
  const close = o.close ?? pickClose(r);
  return tcpPlan(e, {
    p,
    sport: World.nextPort(c, r),
    dport: o.dport ?? 443,
    tsOpt: c.tsOpt,
    ecn: r.chance(0.04),
    open: 'full',
    steps,
    close,
    closeGap: close.startsWith('rst') ? us(r.logUniform(1000, 3e6)) : clampGap(r, 2.5e6, 25e6),
    rttS,
    rttC,
    label: o.label ?? (o.ver === 13 ? 'tls13' : 'tls12'),
    malicious: o.malicious ?? false,
    l7: { sni: o.sni, alpn, tlsVersion: o.ver === 13 ? 'TLSv1.3' : 'TLSv1.2' },
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpOpts {
  server: Host;
  host: string;
  requests?: number;
  bodyBytes?: number[];
  binary?: boolean;
  method?: string;
  uri?: string;
  reqBody?: Uint8Array;
  ua?: string;
  status?: number;
  close?: CloseKind;
  label?: string;
  malicious?: boolean;
  dport?: number;
  rate?: number;
}

export function httpPlan(e: Engine, c: Client, o: HttpOpts, date: number): Plan {
  const r = e.rng;
  const p = path(e, c, o.server);
  const ua = o.ua ?? r.pick(http.USER_AGENTS[c.os]);
  const n = o.requests ?? r.weighted([1, 2, 3], [70, 20, 10]);
  const rate = o.rate ?? r.logUniform(1e6, 2e7);
  const steps: TcpStep[] = [];
  let first: http.HttpReq | undefined;
  let firstStatus = 0;
  for (let i = 0; i < n; i++) {
    const req = http.request(r, o.host, ua, o.method ?? 'GET', i === 0 ? o.uri : undefined, o.reqBody);
    const status = o.status ?? http.pickStatus(r);
    if (i === 0) {
      first = req;
      firstStatus = status;
    }
    const body = o.bodyBytes?.[i] ?? Math.round(r.logUniform(40, 40000));
    const binary = o.binary ?? r.chance(0.4);
    steps.push({ fromCli: true, msg: bytes(req.bytes), gap: i === 0 ? us(r.logUniform(50, 1500)) : clampGap(r, 1e6, 10e6) });
    steps.push({ fromCli: false, msg: http.response(r, status, body, date, binary), gap: us(r.logUniform(200, 30000)), rate });
  }
  const close = o.close ?? r.weighted<CloseKind>(['fin-c3', 'fin-s3', 'fin-c4', 'rst-c', 'none'], [45, 25, 15, 7, 8]);
  return tcpPlan(e, {
    p,
    sport: World.nextPort(c, r),
    dport: o.dport ?? 80,
    tsOpt: c.tsOpt,
    open: 'full',
    steps,
    close,
    closeGap: clampGap(r, 1.5e6, 15e6),
    rttS: rttServer(r, o.server),
    rttC: rttClient(r),
    label: o.label ?? 'http',
    malicious: o.malicious ?? false,
    l7: { httpHost: o.host, httpMethod: first!.method, httpUri: first!.uri, userAgent: ua, httpStatus: firstStatus, httpRequests: n },
  });
}

// ---------------------------------------------------------------------------------------------
// ICMP echo, NTP, SSDP

export function pingPlan(e: Engine, c: Client, target: Host, count: number, v6 = false, label = 'icmp'): Plan {
  const r = e.rng;
  const p = path(e, c, target, v6);
  const id = r.int(1, 65535);
  const windows = c.os === 'windows';
  const rtt = rttServer(r, target);
  return {
    frames: 2 * count,
    run: function* (t0: number): Run {
      const reqType = v6 ? 128 : 8;
      const repType = v6 ? 129 : 0;
      const flow = e.newFlow({ proto: v6 ? 'ICMPv6' : 'ICMP', saddr: p.c.ip, daddr: p.s.ip, sport: reqType, dport: 0, label });
      let t = t0;
      for (let i = 0; i < count; i++) {
        if (i > 0) t += us(1e6 + r.int(-2000, 2000));
        const body = new Uint8Array(4 + (windows ? 32 : 56));
        body[0] = id >>> 8;
        body[1] = id & 0xff;
        const sq = i + 1;
        body[2] = sq >>> 8;
        body[3] = sq & 0xff;
        if (windows) for (let k = 0; k < 32; k++) body[4 + k] = 0x61 + (k % 23);
        else {
          const sec = Math.floor(t / 1e6);
          const usec = t - sec * 1e6;
          const dv = new DataView(body.buffer);
          dv.setUint32(4, sec, true);
          dv.setUint32(8, 0, true);
          dv.setUint32(12, usec, true);
          dv.setUint32(16, 0, true);
          for (let k = 0; k < 40; k++) body[20 + k] = 0x10 + k;
        }
        yield t;
        sendIcmp(e.o, p, flow, true, t, reqType, 0, body);
        const tr = t + us(rtt * (0.9 + 0.2 * r.float()));
        yield tr;
        sendIcmp(e.o, p, flow, false, tr, repType, 0, body);
        t = tr;
      }
      return t;
    },
  };
}

const NTP_EPOCH_OFFSET = 2208988800;
function ntpPacket(mode: number, t: number, r: Rng): Uint8Array {
  const b = new Uint8Array(48);
  const dv = new DataView(b.buffer);
  b[0] = (0 << 6) | (4 << 3) | mode;
  const ts = (off: number, tt: number) => {
    const sec = Math.floor(tt / 1e6);
    dv.setUint32(off, sec + NTP_EPOCH_OFFSET);
    dv.setUint32(off + 4, Math.floor(((tt - sec * 1e6) / 1e6) * 4294967296));
  };
  if (mode === 3) {
    b[2] = 6;
    b[3] = 0xe9;
    ts(40, t);
  } else {
    b[1] = 1;
    b[2] = 6;
    b[3] = 0xe9;
    dv.setUint32(12, 0x474f4f47); // "GOOG"
    ts(16, t - 20e6);
    ts(24, t - r.int(10000, 30000));
    ts(32, t - r.int(5000, 9000));
    ts(40, t - r.int(1000, 4000));
  }
  return b;
}

export function ntpPlan(e: Engine, c: Client, t0hint: number): Plan {
  const r = e.rng;
  const srv = r.pick(e.world.ntpServers);
  const p = path(e, c, srv);
  const rtt = rttServer(r, srv);
  return udpPlan(
    e,
    p,
    World.nextPort(c, r),
    123,
    [
      { fromCli: true, payload: ntpPacket(3, t0hint, r), gap: 0 },
      { fromCli: false, payload: ntpPacket(4, t0hint + rtt, r), gap: rtt },
    ],
    'ntp',
  );
}

export function ssdpPlan(e: Engine, c: Client): Plan {
  const r = e.rng;
  const p = path(e, c, e.world.ssdp);
  const st = r.pick(['ssdp:all', 'urn:dial-multiscreen-org:service:dial:1', 'upnp:rootdevice', 'urn:schemas-upnp-org:device:MediaRenderer:1']);
  const msg = `M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ${st}\r\nUSER-AGENT: Chromium/131.0.6778.86 Windows\r\n\r\n`;
  return udpPlan(e, p, World.nextPort(c, r), 1900, [{ fromCli: true, payload: Buffer.from(msg, 'latin1'), gap: 0 }], 'ssdp');
}

// ---------------------------------------------------------------------------------------------
// Port scan probe (nmap -sS style)

export function probePlan(e: Engine, scanner: Client, target: Host, sport: number, dport: number, state: 'open' | 'closed' | 'filtered'): Plan {
  const r = e.rng;
  const p = path(e, scanner, target);
  const rtt = rttServer(r, target);
  return {
    frames: state === 'open' ? 3 : state === 'closed' ? 2 : 1,
    run: function* (t0: number): Run {
      const flow = e.newFlow({ proto: 'TCP', saddr: p.c.ip, daddr: p.s.ip, sport, dport, label: 'scan', malicious: true });
      const conn = new TcpConn(e.o, p, flow, sport, dport, false, true);
      let t = t0;
      yield t;
      conn.send(t, true, S);
      if (state === 'filtered') return t;
      t += rtt;
      yield t;
      if (state === 'closed') {
        conn.sSeq = 0;
        conn.send(t, false, R | A);
        flow.t.tcpClose = 'rst';
        return t;
      }
      conn.send(t, false, S | A);
      t += us(r.logUniform(30, 300));
      yield t;
      conn.send(t, true, R);
      flow.t.tcpClose = 'rst';
      return t;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Fragmented UDP (large EDNS TXT answer, ~3 KB → 3 IPv4 fragments)

export function fragPlan(e: Engine, c: Client): Plan {
  const r = e.rng;
  const zone = r.pick(['example.org', 'corp-mail.example.net', 'dkim.example.com', 'keys.example.org']);
  return dnsPlan(e, c, { qname: `_keys.${zone}`, qtype: QT.TXT, edns: 4096, bigTxt: true, label: 'frag', server: r.pick(e.world.publicResolvers) });
}

// ---------------------------------------------------------------------------------------------
// Composite: DNS lookup then TLS to the answer

export function seqPlan(parts: Plan[], gaps: number[]): Plan {
  let frames = 0;
  for (const p of parts) frames += p.frames;
  return {
    frames,
    run: function* (t0: number): Run {
      let t = t0;
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) t += gaps[i - 1] ?? 1000;
        t = yield* parts[i]!.run(t);
      }
      return t;
    },
  };
}

/** Run plans at given absolute times (spawned as independent sessions). */
export function schedulePlan(e: Engine, items: { t: number; plan: Plan }[]): Plan {
  items.sort((a, b) => a.t - b.t);
  let frames = 0;
  for (const it of items) frames += it.plan.frames;
  return {
    frames,
    run: function* (t0: number): Run {
      let last = t0;
      for (const it of items) {
        const t = Math.max(it.t, last);
        yield t;
        e.spawn(it.plan.run(t));
        last = t;
      }
      return last;
    },
  };
}

export { dnsResponse };
