// Synthetic event records for the transport and codec benchmarks: flow records shaped like the
// sensor's (every column, nDPI fields on a third, a mix of kinds, IPv4 and IPv6) and DNS records
// with answers. Deterministic for a seed (mulberry32).
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = 1_768_471_200_000_000;

export interface RecordMaker {
  /** A flow record stamped `i` ms after T0; a fresh flow id unless one is given. */
  flow(i: number, flowid?: string): Record<string, unknown>;
  dns(i: number): Record<string, unknown>;
  uuid(): string;
}

export function recordMaker(seed = 42): RecordMaker {
  const rand = rng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const hex = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[int(16)];
    return s;
  };
  const ipv4 = (): string => `${pick([10, 172, 192, 93, 151])}.${int(256)}.${int(256)}.${1 + int(254)}`;
  const ipv6 = (): string => `2001:db8:${hex(4)}::${hex(4)}`;
  const mac = (): string => Array.from({ length: 6 }, () => hex(2)).join(':');
  const uuid = (): string => `${hex(8)}-${hex(4)}-4${hex(3)}-${hex(4)}-${hex(12)}`;
  const flow = (i: number, flowid = uuid()): Record<string, unknown> => {
    const v6 = rand() < 0.15;
    const proto = pick(['TCP', 'TCP', 'TCP', 'UDP', 'UDP', 'ICMP']);
    const stime = T0 + i * 1000 + int(1000);
    const dur = int(120_000);
    const spkts = 1 + int(5000);
    const dpkts = int(5000);
    const kind = pick(['start', 'update', 'update', 'end'] as const);
    const r: Record<string, unknown> = {
      obname: 'sensor-01', ts: stime + dur * 1000, kind, seq: kind === 'start' ? 0 : 1 + int(20), version: 1, flowid, stime,
      etime: stime + dur * 1000, dur, rtt: int(300_000), pcr: int(201) - 100, proto, saddr: v6 ? ipv6() : ipv4(), daddr: v6 ? ipv6() : ipv4(),
      sport: proto === 'ICMP' ? 8 : 1024 + int(64000), dport: proto === 'ICMP' ? 0 : pick([443, 443, 80, 53, 22, 8080, 123]),
      iflags: proto === 'TCP' ? 'S' : '', uflags: proto === 'TCP' ? pick(['FSPA', 'SA', 'SPA', 'RSA']) : '', stcpseq: int(2 ** 32),
      dtcpseq: int(2 ** 32), svlan: pick([0, 0, 10]), dvlan: 0, spkts, dpkts, sbytes: spkts * (60 + int(1400)), dbytes: dpkts * (60 + int(1400)),
      sentropy: int(256), dentropy: int(256), ssmallpktcnt: int(spkts), dsmallpktcnt: int(dpkts + 1), slargepktcnt: int(spkts),
      dlargepktcnt: int(dpkts + 1), snonemptypktcnt: int(spkts), dnonemptypktcnt: int(dpkts + 1), sfirstnonemptycnt: int(1460),
      dfirstnonemptycnt: int(1460), smaxpktsize: 60 + int(1440), dmaxpktsize: 60 + int(1440), savgpayload: int(1400), davgpayload: int(1400),
      sstdevpayload: int(500), dstdevpayload: int(500), spd: Array.from({ length: int(9) }, () => pick(['S', 'D'])).join(''),
      spdt: Array.from({ length: int(9) }, (_, k) => String(k * int(50))).join(','), reason: kind === 'end' ? pick(['idle', 'end', 'rst', 'eof']) : '',
      smac: mac(), dmac: mac(), community_id: `1:${hex(26)}==`,
    };
    if (proto === 'TCP' && rand() < 0.5) Object.assign(r, { ndpi_ja4: `t13d1516h2_${hex(12)}_${hex(12)}`, ndpi_ja3s: hex(32) });
    if (rand() < 0.33) {
      Object.assign(r, {
        ndpi_appid: pick(['TLS.YouTube', 'DNS', 'HTTP', 'TLS.Google', 'QUIC.Netflix']), ndpi_category: pick(['Media', 'Network', 'Web', 'Streaming']),
        ndpi_risk_score: int(300), ndpi_risk_severity: int(4), ndpi_risk_list: pick(['', 'Known Proto on Non Std Port', 'Self-signed Cert,Obsolete TLS']),
        ndpi_tcp_fp: `2_64_64240_${hex(12)}/Linux`, ndpi_fp: hex(32),
      });
    }
    return r;
  };
  const dns = (i: number): Record<string, unknown> => {
    const q = `${hex(6)}.${pick(['example.com', 'cdn.example.net', 'googleapis.com', 'akamaiedge.net'])}`;
    return {
      obname: 'sensor-01', ts: T0 + i * 500, flowid: uuid(), community_id: `1:${hex(26)}==`,
      saddr: ipv4(), daddr: '10.1.0.53', sport: 1024 + int(64000), dport: 53, query: q, qtype: pick(['A', 'AAAA', 'HTTPS', 'PTR']),
      rcode: pick(['NOERROR', 'NOERROR', 'NXDOMAIN', '']),
      answers: Array.from({ length: int(5) }, (_, k) => ({ name: q, type: k === 0 ? 'CNAME' : 'A', ttl: int(3600), data: k === 0 ? `edge.${q}` : ipv4() })),
    };
  };
  return { flow, dns, uuid };
}
