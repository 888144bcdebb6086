// Public types of the synthetic capture generator.

export interface SynthOptions {
  /** Output pcap path. */
  out: string;
  /** Exact number of frames to write. */
  packets: number;
  seed?: number;
  /** Capture start, µs since epoch (default 2026-01-15T10:00:00Z). */
  startTime?: number;
  snaplen?: number;
  linktype?: 'ethernet';
  /** Write `<out>.truth.json` (default true). */
  truth?: boolean;
  /** Mix of ordinary sessions (SESSION_MIXES): `default`, or `many-flows` (~10 packets per flow). */
  mix?: 'default' | 'many-flows';
}

export interface L7Truth {
  dnsQuery?: string;
  dnsQtype?: number;
  /** Answer RDATA in presentation form: A/AAAA address, CNAME/NS/PTR name, "pref name" for MX, text for TXT. */
  dnsAnswers?: string[];
  /** DNS response code (0 NOERROR, 3 NXDOMAIN). */
  dnsRcode?: number;
  sni?: string;
  alpn?: string[];
  /** Negotiated version: 'TLSv1.2' | 'TLSv1.3'. */
  tlsVersion?: string;
  httpHost?: string;
  httpMethod?: string;
  httpUri?: string;
  userAgent?: string;
  httpStatus?: number;
  /** Request/response pairs on the connection (keep-alive); the http* fields describe the first. */
  httpRequests?: number;
}

export interface TruthFlow {
  proto: string;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  spkts: number;
  dpkts: number;
  sbytes: number;
  dbytes: number;
  stime: number;
  etime: number;
  iflags: string;
  uflags: string;
  svlan: number;
  dvlan: number;
  rtt: number;
  tcpClose: 'fin' | 'rst' | 'none';
  label: string;
  malicious: boolean;
  l7?: L7Truth;
}

export interface PlantedHosts {
  scanner: string;
  dgaHost: string;
  beaconHost: string;
  beaconC2: string;
  exfilHost: string;
  exfilDest: string;
  badIps: string[];
  dgaDomains: string[];
}

export interface SynthResult {
  path: string;
  /** Frames written (== requested packets). */
  packets: number;
  /** pcap file size in bytes. */
  bytes: number;
  firstTs: number;
  lastTs: number;
  flows: TruthFlow[];
  plantedHosts: PlantedHosts;
  /** Path of the truth file, if written. */
  truthPath?: string;
}
