// Frame construction: Ethernet (+802.1Q / QinQ), IPv4 / IPv6, TCP / UDP / ICMP / ICMPv6, with
// correct checksums, plus per-flow ground-truth accounting.
import type { PcapWriter, RandomPool } from './wire.js';
import { finish, fold, sumBytes } from './wire.js';
import type { Msg, Src } from './msg.js';
import type { Rng } from './rng.js';
import type { TruthFlow } from './types.js';

// ---------------------------------------------------------------------------------------------
// Addresses

export function parseIp4(s: string): Uint8Array {
  const p = s.split('.').map(Number);
  return Uint8Array.from(p);
}

export function parseIp6(s: string): Uint8Array {
  const out = new Uint8Array(16);
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':').filter((x) => x !== '') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  h.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  t.forEach((g, i) => {
    const v = parseInt(g, 16);
    const k = 8 - t.length + i;
    out[2 * k] = v >>> 8;
    out[2 * k + 1] = v & 0xff;
  });
  return out;
}

/** RFC 5952 canonical text form. */
export function formatIp6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let bestS = -1, bestL = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] === 0) {
      let j = i;
      while (j < 8 && g[j] === 0) j++;
      if (j - i > bestL && j - i >= 2) {
        bestS = i;
        bestL = j - i;
      }
      i = j;
    } else i++;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (bestS < 0) return hex(g);
  return hex(g.slice(0, bestS)) + '::' + hex(g.slice(bestS + bestL));
}

export function ipBytes(s: string): Uint8Array {
  return s.includes(':') ? parseIp6(s) : parseIp4(s);
}

export function canonIp(s: string): string {
  return s.includes(':') ? formatIp6(parseIp6(s)) : s;
}

export function macBytes(s: string): Uint8Array {
  return Uint8Array.from(s.split(':').map((x) => parseInt(x, 16)));
}

// ---------------------------------------------------------------------------------------------
// Flags / truth accounting

export const F = 0x01, S = 0x02, R = 0x04, P = 0x08, A = 0x10, U = 0x20, E = 0x40, C = 0x80;
const FLAG_LETTERS = 'FSRPAUEC';

export function flagString(bits: number): string {
  let s = '';
  for (let i = 0; i < 8; i++) if (bits & (1 << i)) s += FLAG_LETTERS[i];
  return s;
}

/** Ground-truth accumulator of one flow (bidirectional session). Source = client side. */
export class Flow {
  iflagBits = -1;
  uflagBits = 0;
  synTs = -1;
  synAckSeen = false;
  rttDone = false;
  seenS = false;
  seenD = false;
  constructor(readonly t: TruthFlow) {}

  account(fromCli: boolean, ts: number, ipLen: number, flags: number, vlan: number, tcp: boolean): void {
    const t = this.t;
    if (!this.seenS && !this.seenD) {
      t.stime = ts;
      if (tcp) this.iflagBits = flags;
    }
    t.etime = ts;
    if (fromCli) {
      if (!this.seenS) {
        this.seenS = true;
        t.svlan = vlan;
      }
      t.spkts++;
      t.sbytes += ipLen;
    } else {
      if (!this.seenD) {
        this.seenD = true;
        t.dvlan = vlan;
      }
      t.dpkts++;
      t.dbytes += ipLen;
    }
    if (tcp) {
      this.uflagBits |= flags;
      if (!this.rttDone) {
        if (fromCli && (flags & (S | A)) === S && this.synTs < 0) this.synTs = ts;
        else if (!fromCli && (flags & (S | A)) === (S | A) && this.synTs >= 0) this.synAckSeen = true;
        else if (fromCli && this.synAckSeen && (flags & (S | A | R)) === A) {
          t.rtt = ts - this.synTs;
          this.rttDone = true;
        }
      }
    }
  }

  finalize(): TruthFlow {
    if (this.t.proto === 'TCP') {
      this.t.iflags = flagString(this.iflagBits < 0 ? 0 : this.iflagBits);
      this.t.uflags = flagString(this.uflagBits);
    }
    return this.t;
  }
}

// ---------------------------------------------------------------------------------------------
// Paths

export interface Host {
  ip: string;
  ipb: Uint8Array;
  v6: boolean;
  mac: Uint8Array;
  ttl: number;
}

/** The L2/L3 path between a client and a server as seen by the sensor. */
export class Path {
  readonly v6: boolean;
  readonly addrSum: number;
  cIpId: number;
  sIpId: number;
  readonly cFlowLabel: number;
  readonly sFlowLabel: number;
  constructor(
    readonly c: Host,
    readonly s: Host,
    /** MAC of the client's next hop (server itself if on-link, else the router). */
    readonly cPeerMac: Uint8Array,
    /** Source MAC of packets arriving from the server side. */
    readonly sSrcMac: Uint8Array,
    readonly cTags: number[] = [],
    readonly sTags: number[] = [],
    rng?: Rng,
  ) {
    this.v6 = c.v6;
    this.addrSum = sumBytes(c.ipb, 0, c.ipb.length) + sumBytes(s.ipb, 0, s.ipb.length);
    this.cIpId = rng ? rng.int(0, 65535) : 1;
    this.sIpId = rng ? rng.int(0, 65535) : 1;
    this.cFlowLabel = rng && this.v6 ? rng.int(1, 0xfffff) : 0;
    this.sFlowLabel = rng && this.v6 ? rng.int(1, 0xfffff) : 0;
  }
  outerVlan(fromCli: boolean): number {
    const t = fromCli ? this.cTags : this.sTags;
    return t.length ? t[1]! : 0;
  }
}

export const ETH_IP4 = 0x0800, ETH_IP6 = 0x86dd, TPID_Q = 0x8100, TPID_AD = 0x88a8;
const PROTO_ICMP = 1, PROTO_TCP = 6, PROTO_UDP = 17, PROTO_ICMP6 = 58;

/**
 * Write Ethernet + tags + IP header at `off`. Returns offset of the L4 header.
 * fragField: IPv4 flags+fragment offset word (e.g. 0x4000 for DF).
 */
function writeL2L3(
  b: Uint8Array,
  off: number,
  p: Path,
  fromCli: boolean,
  proto: number,
  l4len: number,
  fragField: number,
  ipId: number,
): number {
  const dmac = fromCli ? p.cPeerMac : p.c.mac;
  const smac = fromCli ? p.c.mac : p.sSrcMac;
  b.set(dmac, off);
  b.set(smac, off + 6);
  let o = off + 12;
  const tags = fromCli ? p.cTags : p.sTags;
  for (let i = 0; i < tags.length; i += 2) {
    b[o] = tags[i]! >>> 8;
    b[o + 1] = tags[i]! & 0xff;
    b[o + 2] = tags[i + 1]! >>> 8;
    b[o + 3] = tags[i + 1]! & 0xff;
    o += 4;
  }
  const src = fromCli ? p.c : p.s;
  const dst = fromCli ? p.s : p.c;
  const ttl = fromCli ? p.c.ttl : p.s.ttl;
  if (!p.v6) {
    b[o] = ETH_IP4 >>> 8;
    b[o + 1] = ETH_IP4 & 0xff;
    o += 2;
    const tot = 20 + l4len;
    b[o] = 0x45;
    b[o + 1] = 0;
    b[o + 2] = tot >>> 8;
    b[o + 3] = tot & 0xff;
    b[o + 4] = (ipId >>> 8) & 0xff;
    b[o + 5] = ipId & 0xff;
    b[o + 6] = fragField >>> 8;
    b[o + 7] = fragField & 0xff;
    b[o + 8] = ttl;
    b[o + 9] = proto;
    b[o + 10] = 0;
    b[o + 11] = 0;
    b.set(src.ipb, o + 12);
    b.set(dst.ipb, o + 16);
    const ck = finish(sumBytes(b, o, o + 20));
    b[o + 10] = ck >>> 8;
    b[o + 11] = ck & 0xff;
    return o + 20;
  }
  b[o] = ETH_IP6 >>> 8;
  b[o + 1] = ETH_IP6 & 0xff;
  o += 2;
  b[o] = 0x60;
  const fl = fromCli ? p.cFlowLabel : p.sFlowLabel; // constant per direction, like a socket's
  b[o + 1] = (fl >>> 16) & 0x0f;
  b[o + 2] = (fl >>> 8) & 0xff;
  b[o + 3] = fl & 0xff;
  b[o + 4] = l4len >>> 8;
  b[o + 5] = l4len & 0xff;
  b[o + 6] = proto;
  b[o + 7] = ttl;
  b.set(src.ipb, o + 8);
  b.set(dst.ipb, o + 24);
  return o + 40;
}

function l2len(p: Path, fromCli: boolean): number {
  return 14 + 2 * (fromCli ? p.cTags.length : p.sTags.length);
}

/** Pad short frames to the 60-byte Ethernet minimum (zeros). Returns the final frame length. */
function pad(b: Uint8Array, off: number, len: number): number {
  if (len >= 60) return len;
  b.fill(0, off + len, off + 60);
  return 60;
}

// ---------------------------------------------------------------------------------------------
// Emission context

export class Out {
  readonly src: Src;
  constructor(
    readonly w: PcapWriter,
    readonly rng: Rng,
    pool: RandomPool,
  ) {
    this.src = { pool, rng };
  }
}

// ---------------------------------------------------------------------------------------------
// TCP

export class TcpConn {
  cSeq: number;
  sSeq: number;
  readonly cIsn: number;
  readonly sIsn: number;
  readonly mss: number;
  private cTsBase: number;
  private sTsBase: number;
  private lastCTsv = 0;
  private lastSTsv = 0;
  cWin: number;
  sWin: number;
  constructor(
    readonly o: Out,
    readonly p: Path,
    readonly flow: Flow,
    readonly sport: number,
    readonly dport: number,
    readonly tsOpt: boolean,
    /** nmap-style SYN probe: MSS option only, window 1024. */
    readonly nmap = false,
  ) {
    const r = o.rng;
    this.cIsn = this.cSeq = r.u32();
    this.sIsn = this.sSeq = r.u32();
    this.cTsBase = r.u32();
    this.sTsBase = r.u32();
    const base = p.v6 ? 1440 : 1460;
    this.mss = tsOpt ? base - 12 : base;
    this.cWin = r.pick([501, 502, 1026, 2052, 4096]);
    this.sWin = r.pick([235, 501, 1040, 8192, 16384]);
  }

  /** Ack number a side would put in its packets (everything the peer sent so far). */
  ackFor(fromCli: boolean): number {
    return fromCli ? this.sSeq : this.cSeq;
  }

  /**
   * Emit one TCP segment. `msg` supplies n payload bytes (n may be 0). `ack` overrides the ack
   * number (used for ACKs that lag behind in-flight data).
   */
  send(ts: number, fromCli: boolean, flags: number, msg: Msg | null = null, n = 0, ack?: number): void {
    const p = this.p;
    const syn = (flags & S) !== 0;
    let optLen: number;
    if (syn) optLen = this.nmap ? 4 : this.tsOpt ? 20 : 12;
    else optLen = this.tsOpt ? 12 : 0;
    const thl = 20 + optLen;
    const l4len = thl + n;
    const ipHdr = p.v6 ? 40 : 20;
    const l2 = l2len(p, fromCli);
    const frameLen = l2 + ipHdr + l4len;
    const w = this.o.w;
    const { buf: b, off } = w.begin(Math.max(frameLen, 60));
    let ipId: number;
    if (fromCli) ipId = p.cIpId = (p.cIpId + 1) & 0xffff;
    else ipId = p.sIpId = (p.sIpId + 1) & 0xffff;
    const t = writeL2L3(b, off, p, fromCli, PROTO_TCP, l4len, 0x4000, ipId);
    const seq = fromCli ? this.cSeq : this.sSeq;
    const ackNo = flags & A ? (ack ?? this.ackFor(fromCli)) : 0;
    const sp = fromCli ? this.sport : this.dport;
    const dp = fromCli ? this.dport : this.sport;
    b[t] = sp >>> 8;
    b[t + 1] = sp & 0xff;
    b[t + 2] = dp >>> 8;
    b[t + 3] = dp & 0xff;
    b.writeUInt32BE(seq >>> 0, t + 4);
    b.writeUInt32BE(ackNo >>> 0, t + 8);
    b[t + 12] = (thl / 4) << 4;
    b[t + 13] = flags;
    const win = flags & R ? 0 : syn ? (this.nmap && fromCli ? 1024 : fromCli ? 64240 : 65160) : fromCli ? this.cWin : this.sWin;
    b[t + 14] = win >>> 8;
    b[t + 15] = win & 0xff;
    b[t + 16] = 0;
    b[t + 17] = 0;
    b[t + 18] = 0;
    b[t + 19] = 0;
    let q = t + 20;
    const tsv = (((fromCli ? this.cTsBase : this.sTsBase) + Math.floor(ts / 1000)) >>> 0);
    const tsecr = flags & A ? (fromCli ? this.lastSTsv : this.lastCTsv) : 0;
    if (syn) {
      const mss = p.v6 ? 1440 : 1460;
      b[q] = 2; b[q + 1] = 4; b[q + 2] = mss >>> 8; b[q + 3] = mss & 0xff;
      q += 4;
      if (this.nmap) {
        // MSS only
      } else if (this.tsOpt) {
        b[q] = 4; b[q + 1] = 2; // SACK permitted
        b[q + 2] = 8; b[q + 3] = 10;
        b.writeUInt32BE(tsv, q + 4);
        b.writeUInt32BE(tsecr >>> 0, q + 8);
        b[q + 12] = 1; // NOP
        b[q + 13] = 3; b[q + 14] = 3; b[q + 15] = fromCli ? 7 : 9; // window scale
        q += 16;
      } else {
        b[q] = 1; b[q + 1] = 3; b[q + 2] = 3; b[q + 3] = 8; // NOP, WS 8
        b[q + 4] = 1; b[q + 5] = 1; b[q + 6] = 4; b[q + 7] = 2; // NOP NOP SACK_PERM
        q += 8;
      }
    } else if (this.tsOpt) {
      b[q] = 1; b[q + 1] = 1; b[q + 2] = 8; b[q + 3] = 10;
      b.writeUInt32BE(tsv, q + 4);
      b.writeUInt32BE(tsecr >>> 0, q + 8);
      q += 12;
    }
    if (fromCli) this.lastCTsv = tsv;
    else this.lastSTsv = tsv;
    let sum = p.addrSum + PROTO_TCP + l4len + sumBytes(b, t, q);
    if (n > 0 && msg) sum += msg.write(b, q, n, this.o.src);
    const ck = finish(sum);
    b[t + 16] = ck >>> 8;
    b[t + 17] = ck & 0xff;
    const fl = pad(b, off, frameLen);
    w.commit(ts, fl);
    let adv = n;
    if (syn) adv++;
    if (flags & F) adv++;
    if (fromCli) this.cSeq = (this.cSeq + adv) >>> 0;
    else this.sSeq = (this.sSeq + adv) >>> 0;
    this.flow.account(fromCli, ts, ipHdr + l4len, flags, p.outerVlan(fromCli), true);
  }
}

// ---------------------------------------------------------------------------------------------
// UDP (with IPv4 fragmentation) and ICMP

const MTU = 1500;

/** A prepared UDP datagram; emit fragment by fragment (count = frags). */
export class UdpDatagram {
  readonly frags: number;
  private readonly l4: Uint8Array;
  private readonly ipId: number;
  constructor(
    readonly o: Out,
    readonly p: Path,
    readonly flow: Flow,
    readonly fromCli: boolean,
    sport: number,
    dport: number,
    payload: Uint8Array,
  ) {
    const l4len = 8 + payload.length;
    const l4 = new Uint8Array(l4len);
    l4[0] = sport >>> 8;
    l4[1] = sport & 0xff;
    l4[2] = dport >>> 8;
    l4[3] = dport & 0xff;
    l4[4] = l4len >>> 8;
    l4[5] = l4len & 0xff;
    l4.set(payload, 8);
    let ck = finish(p.addrSum + PROTO_UDP + l4len + sumBytes(l4, 0, l4len));
    if (ck === 0) ck = 0xffff;
    l4[6] = ck >>> 8;
    l4[7] = ck & 0xff;
    this.l4 = l4;
    const maxData = p.v6 ? 65535 : (MTU - 20) & ~7;
    this.frags = p.v6 ? 1 : Math.ceil(l4len / maxData);
    if (fromCli) this.ipId = p.cIpId = (p.cIpId + 1) & 0xffff;
    else this.ipId = p.sIpId = (p.sIpId + 1) & 0xffff;
  }

  /** Emit fragment i (0-based). Truth counts the datagram once, on its last fragment. */
  emit(ts: number, i: number): void {
    const p = this.p;
    const total = this.l4.length;
    const maxData = (MTU - 20) & ~7;
    const start = this.frags === 1 ? 0 : i * maxData;
    const len = this.frags === 1 ? total : Math.min(maxData, total - start);
    const last = i === this.frags - 1;
    const ipHdr = p.v6 ? 40 : 20;
    const frameLen = l2len(p, this.fromCli) + ipHdr + len;
    const { buf: b, off } = this.o.w.begin(Math.max(frameLen, 60));
    const frag = this.frags === 1 ? 0 : (last ? 0 : 0x2000) | (start >>> 3);
    const t = writeL2L3(b, off, p, this.fromCli, PROTO_UDP, len, frag, this.ipId);
    b.set(this.l4.subarray(start, start + len), t);
    this.o.w.commit(ts, pad(b, off, frameLen));
    if (last) this.flow.account(this.fromCli, ts, ipHdr + total, 0, p.outerVlan(this.fromCli), false);
  }
}

/** Emit a single ICMP (v4) or ICMPv6 message; `body` follows the 4-byte type/code/checksum. */
export function sendIcmp(o: Out, p: Path, flow: Flow, fromCli: boolean, ts: number, type: number, code: number, body: Uint8Array): void {
  const l4len = 4 + body.length;
  const ipHdr = p.v6 ? 40 : 20;
  const frameLen = l2len(p, fromCli) + ipHdr + l4len;
  const { buf: b, off } = o.w.begin(Math.max(frameLen, 60));
  let ipId: number;
  if (fromCli) ipId = p.cIpId = (p.cIpId + 1) & 0xffff;
  else ipId = p.sIpId = (p.sIpId + 1) & 0xffff;
  const proto = p.v6 ? PROTO_ICMP6 : PROTO_ICMP;
  const t = writeL2L3(b, off, p, fromCli, proto, l4len, p.v6 ? 0 : 0x4000, ipId);
  b[t] = type;
  b[t + 1] = code;
  b[t + 2] = 0;
  b[t + 3] = 0;
  b.set(body, t + 4);
  let s = sumBytes(b, t, t + l4len);
  if (p.v6) s += p.addrSum + proto + l4len;
  const ck = finish(s);
  b[t + 2] = ck >>> 8;
  b[t + 3] = ck & 0xff;
  o.w.commit(ts, pad(b, off, frameLen));
  flow.account(fromCli, ts, ipHdr + l4len, 0, p.outerVlan(fromCli), false);
}

export { fold };
