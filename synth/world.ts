// The simulated network: internal clients (some on VLANs, some dual-stack), internal servers,
// resolvers, external servers with domain names, and the planted malicious endpoints.
import type { Rng } from './rng.js';
import { ipBytes, canonIp, macBytes, type Host } from './net.js';
import { QT, type RR } from './dns.js';
import type { CertCache } from './tls.js';

const OUIS = ['3c:97:0e', 'f0:18:98', '00:14:22', 'a4:83:e7', '8c:85:90', 'dc:a6:32', '48:2a:e3', 'f4:5c:89', '00:50:56', 'b8:27:eb', '70:85:c2', '98:fa:9b'];

export type OsKind = 'windows' | 'mac' | 'linux';

export interface Client {
  h4: Host;
  h6?: Host;
  os: OsKind;
  /** TCP timestamps option in use (Linux/macOS yes, Windows no). */
  tsOpt: boolean;
  /** VLAN tags ([tpid, vid, ...], outer first) for packets to/from this host; [] = untagged. */
  tags: number[];
  /** Tags of the return direction (usually == tags). */
  rtags: number[];
  router: Uint8Array;
  port: number;
  portLo: number;
  portHi: number;
  weight: number;
}

export interface Server {
  name: string;
  host: Host;
  host6?: Host;
  cname?: string[];
}

function mkHost(ip: string, mac: string | Uint8Array, ttl: number): Host {
  return { ip: canonIp(ip), ipb: ipBytes(ip), v6: ip.includes(':'), mac: typeof mac === 'string' ? macBytes(mac) : mac, ttl };
}

function randMac(rng: Rng, oui?: string): Uint8Array {
  const o = (oui ?? rng.pick(OUIS)).split(':').map((x) => parseInt(x, 16));
  return Uint8Array.from([o[0]!, o[1]!, o[2]!, rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)]);
}

// name, IPv4 prefix generator, optional IPv6, optional CNAME chain
type Prov = { v4: (r: Rng) => string; v6?: (r: Rng) => string; ttl: [number, number] };
const r8 = (r: Rng) => r.int(1, 254);
const PROV: Record<string, Prov> = {
  google: { v4: (r) => `142.250.${r.int(64, 191)}.${r8(r)}`, v6: (r) => `2607:f8b0:4005:80${r.int(0, 9)}::20${r.int(0, 9)}${r.int(0, 9)}`, ttl: [112, 120] },
  meta: { v4: (r) => `157.240.${r.int(1, 250)}.${r.int(1, 60)}`, v6: () => `2a03:2880:f10d:83:face:b00c:0:25de`, ttl: [52, 58] },
  msft: { v4: (r) => `${r.pick(['13.107', '20.190', '52.96', '40.126'])}.${r.int(1, 250)}.${r8(r)}`, ttl: [110, 118] },
  github: { v4: (r) => `140.82.${r.int(112, 114)}.${r.int(2, 30)}`, ttl: [50, 54] },
  aws: { v4: (r) => `${r.pick(['52.94', '54.239', '3.5', '18.160', '35.170'])}.${r.int(1, 250)}.${r8(r)}`, ttl: [230, 238] },
  cf: { v4: (r) => `104.${r.int(16, 21)}.${r.int(0, 255)}.${r8(r)}`, v6: (r) => `2606:4700::6810:${r.int(0x1000, 0xffff).toString(16)}`, ttl: [54, 58] },
  fastly: { v4: (r) => `151.101.${r.int(0, 255)}.${r.pick([1, 65, 129, 193])}`, v6: (r) => `2a04:4e42:${r.int(0, 0x600).toString(16)}::${r.int(1, 800).toString(16)}`, ttl: [54, 58] },
  akamai: { v4: (r) => `${r.pick(['23.32', '23.45', '104.86', '184.25'])}.${r.int(1, 250)}.${r8(r)}`, ttl: [54, 58] },
  wiki: { v4: () => `208.80.154.224`, v6: () => `2620:0:861:ed1a::1`, ttl: [54, 56] },
  apple: { v4: (r) => `17.253.${r.int(1, 120)}.${r8(r)}`, ttl: [52, 58] },
  canonical: { v4: (r) => `91.189.91.${r.int(80, 90)}`, ttl: [48, 52] },
  zoom: { v4: (r) => `170.114.${r.int(0, 50)}.${r8(r)}`, ttl: [50, 56] },
  misc: { v4: (r) => `${r.pick(['185.199', '199.232', '216.58', '64.233', '45.60', '93.184'])}.${r.int(0, 250)}.${r8(r)}`, ttl: [48, 56] },
};

const TLS_DOMAINS: [string, string, string[]?][] = [
  ['www.google.com', 'google'], ['google.com', 'google'], ['www.youtube.com', 'google', ['youtube-ui.l.google.com']], ['i.ytimg.com', 'google'],
  ['fonts.gstatic.com', 'google'], ['www.gstatic.com', 'google'], ['apis.google.com', 'google'], ['mail.google.com', 'google'],
  ['www.facebook.com', 'meta', ['star-mini.c10r.facebook.com']], ['static.xx.fbcdn.net', 'meta'], ['www.instagram.com', 'meta', ['z-p42-instagram.c10r.instagram.com']],
  ['www.microsoft.com', 'akamai', ['www.microsoft.com-c-3.edgekey.net', 'e13678.dscb.akamaiedge.net']], ['login.microsoftonline.com', 'msft', ['login.mso.msidentity.com']],
  ['outlook.office365.com', 'msft', ['outlook.ha.office365.com']], ['teams.microsoft.com', 'msft'], ['graph.microsoft.com', 'msft'],
  ['github.com', 'github'], ['api.github.com', 'github'], ['avatars.githubusercontent.com', 'fastly'], ['objects.githubusercontent.com', 'fastly'],
  ['www.amazon.com', 'aws', ['tp.47cf2c8c9-frontier.amazon.com']], ['s3.amazonaws.com', 'aws'], ['sqs.us-east-1.amazonaws.com', 'aws'],
  ['www.cloudflare.com', 'cf'], ['cdnjs.cloudflare.com', 'cf'], ['discord.com', 'cf'], ['www.wikipedia.org', 'wiki'], ['en.wikipedia.org', 'wiki'],
  ['upload.wikimedia.org', 'wiki'], ['slack.com', 'aws'], ['app.slack.com', 'aws'], ['zoom.us', 'zoom'], ['www.linkedin.com', 'akamai'],
  ['www.reddit.com', 'fastly', ['reddit.map.fastly.net']], ['www.nytimes.com', 'fastly', ['nytimes.map.fastly.net']], ['cdn.jsdelivr.net', 'fastly'],
  ['registry.npmjs.org', 'cf'], ['pypi.org', 'fastly'], ['files.pythonhosted.org', 'fastly'], ['www.apple.com', 'akamai', ['www.apple.com.edgekey.net', 'e6858.dscx.akamaiedge.net']],
  ['icloud.com', 'apple'], ['gateway.icloud.com', 'apple'], ['api.spotify.com', 'google'], ['www.dropbox.com', 'misc'], ['update.googleapis.com', 'google'],
  ['stackoverflow.com', 'cf'], ['www.salesforce.com', 'akamai'], ['docs.python.org', 'fastly'], ['news.ycombinator.com', 'misc'],
];

const HTTP_DOMAINS: [string, string][] = [
  ['ocsp.digicert.com', 'akamai'], ['captive.apple.com', 'apple'], ['connectivitycheck.gstatic.com', 'google'], ['ctldl.windowsupdate.com', 'akamai'],
  ['archive.ubuntu.com', 'canonical'], ['security.ubuntu.com', 'canonical'], ['deb.debian.org', 'fastly'], ['detectportal.firefox.com', 'google'],
  ['www.msftconnecttest.com', 'akamai'], ['ocsp.pki.goog', 'google'], ['crl.globalsign.com', 'cf'], ['neverssl.com', 'aws'],
];

export const DGA_TLDS = ['com', 'net', 'info', 'biz', 'org', 'ru', 'top', 'xyz', 'cc'];

export class World {
  readonly router: Uint8Array;
  readonly vlanRouter: Uint8Array;
  readonly clients: Client[] = [];
  readonly vlanClients: Client[] = [];
  readonly v6Clients: Client[] = [];
  readonly resolvers: Host[] = [];
  readonly resolver6: Host;
  readonly publicResolvers: Host[] = [];
  readonly internalServers: { host: Host; name: string; open: number[] }[] = [];
  readonly tlsServers: Server[] = [];
  readonly httpServers: Server[] = [];
  readonly byName = new Map<string, Server>();
  readonly ntpServers: Host[] = [];
  readonly ssdp: Host;
  readonly scanner: Client;
  readonly dgaHost: Client;
  readonly beaconHost: Client;
  readonly exfilHost: Client;
  readonly beaconC2: Host;
  readonly exfilDest: Host;
  readonly badIps: Host[] = [];
  private clientWeightTotal = 0;
  readonly certs: CertCache = new Map();

  constructor(readonly rng: Rng, nClients: number) {
    const r = rng;
    this.router = macBytes('00:1b:54:c2:4a:01');
    this.vlanRouter = macBytes('00:1b:54:c2:4a:02');
    for (let i = 0; i < nClients; i++) {
      const os: OsKind = r.weighted(['windows', 'mac', 'linux'] as const, [55, 30, 15]);
      const sub = 1 + Math.floor(i / 200);
      const ip = `10.1.${sub}.${10 + (i % 200)}`;
      const mac = randMac(r, os === 'mac' ? r.pick(['f0:18:98', 'a4:83:e7', '8c:85:90']) : undefined);
      const c = this.mkClient(os, ip, mac, [], this.router);
      c.weight = 1 / (1 + i / 40);
      if (i % 3 === 0) {
        c.h6 = mkHost(`2001:db8:1:${sub.toString(16)}::${(0x100 + i).toString(16)}`, mac, c.h4.ttl);
        this.v6Clients.push(c);
      }
      this.clients.push(c);
      this.clientWeightTotal += c.weight;
    }
    // VLAN clients: 802.1Q VLANs 10/20/30/110 and QinQ (S-VLAN 300, C-VLAN 10/20).
    const vl: number[][] = [
      [0x8100, 10], [0x8100, 20], [0x8100, 30], [0x8100, 110],
      [0x88a8, 300, 0x8100, 10], [0x88a8, 300, 0x8100, 20],
    ];
    for (let i = 0; i < 18; i++) {
      const tags = vl[i % vl.length]!;
      const vid = tags[tags.length - 1]!;
      const os: OsKind = r.weighted(['windows', 'mac', 'linux'] as const, [50, 20, 30]);
      const c = this.mkClient(os, `10.20.${vid}.${20 + i}`, randMac(r), tags, this.vlanRouter);
      // A third of the VLAN hosts sit behind asymmetric routing: replies arrive on another VLAN.
      if (i % 3 === 2 && tags.length === 2) c.rtags = [0x8100, vid + 1];
      this.vlanClients.push(c);
    }
    this.resolvers.push(mkHost('10.0.0.53', randMac(r, '00:50:56'), 64), mkHost('10.0.0.54', randMac(r, '00:50:56'), 64));
    this.resolver6 = mkHost('2001:db8:1::53', this.resolvers[0]!.mac, 64);
    this.publicResolvers.push(mkHost('8.8.8.8', this.router, 118), mkHost('1.1.1.1', this.router, 57), mkHost('9.9.9.9', this.router, 55));
    const isrv: [string, string, number[]][] = [
      ['10.0.5.20', 'intranet.corp.example.com', [22, 80, 443]],
      ['10.0.5.21', 'files.corp.example.com', [22, 139, 445]],
      ['10.0.5.22', 'dc01.corp.example.com', [53, 88, 135, 139, 389, 445, 636, 3389]],
      ['10.0.5.30', 'printer01.corp.example.com', [80, 443, 515, 631, 9100]],
      ['10.0.5.40', 'db01.corp.example.com', [22, 5432]],
    ];
    for (const [ip, name, open] of isrv) this.internalServers.push({ host: mkHost(ip, randMac(r, '00:50:56'), 64), name, open });
    for (const [name, prov, cname] of TLS_DOMAINS) this.addServer(this.tlsServers, name, prov, cname);
    for (const [name, prov] of HTTP_DOMAINS) this.addServer(this.httpServers, name, prov);
    this.ntpServers.push(mkHost('216.239.35.0', this.router, 112), mkHost('162.159.200.1', this.router, 57), mkHost('17.253.34.125', this.router, 52));
    this.ssdp = mkHost('239.255.255.250', macBytes('01:00:5e:7f:ff:fa'), 4);
    // Planted actors: distinct internal hosts.
    const pickDistinct = (used: Set<Client>) => {
      for (;;) {
        const c = r.pick(this.clients);
        if (!used.has(c)) {
          used.add(c);
          return c;
        }
      }
    };
    const used = new Set<Client>();
    this.scanner = pickDistinct(used);
    this.dgaHost = pickDistinct(used);
    this.beaconHost = pickDistinct(used);
    this.exfilHost = pickDistinct(used);
    this.beaconC2 = mkHost(`203.0.113.${r.int(60, 90)}`, this.router, 49);
    this.exfilDest = mkHost(`192.0.2.${r.int(100, 200)}`, this.router, 51);
    for (const ip of ['198.51.100.13', '198.51.100.77', '198.51.100.201', '203.0.113.5', '203.0.113.144']) this.badIps.push(mkHost(ip, this.router, r.int(44, 56)));
  }

  private mkClient(os: OsKind, ip: string, mac: Uint8Array, tags: number[], router: Uint8Array): Client {
    const r = this.rng;
    const ttl = os === 'windows' ? 128 : 64;
    const [lo, hi] = os === 'windows' ? [49152, 65535] : os === 'mac' ? [49152, 65535] : [32768, 60999];
    return { h4: mkHost(ip, mac, ttl), os, tsOpt: os !== 'windows', tags, rtags: tags, router, port: r.int(lo, hi), portLo: lo, portHi: hi, weight: 1 };
  }

  private addServer(list: Server[], name: string, prov: string, cname?: string[]): void {
    const p = PROV[prov]!;
    const r = this.rng;
    const ttl = r.int(p.ttl[0], p.ttl[1]);
    const s: Server = { name, host: mkHost(p.v4(r), this.router, ttl) };
    if (p.v6) s.host6 = mkHost(p.v6(r), this.router, ttl);
    if (cname) s.cname = cname;
    list.push(s);
    this.byName.set(name, s);
  }

  /** Ephemeral source port for a new connection / query from this client. */
  static nextPort(c: Client, r: Rng): number {
    c.port += r.int(1, 2);
    if (c.port > c.portHi) c.port = c.portLo + (c.port - c.portHi);
    return c.port;
  }

  pickClient(): Client {
    let x = this.rng.float() * this.clientWeightTotal;
    for (const c of this.clients) {
      x -= c.weight;
      if (x < 0) return c;
    }
    return this.clients[this.clients.length - 1]!;
  }

  /** Authoritative-looking answers for a name. */
  resolve(qname: string, qtype: number): { answers: RR[]; rcode: number; authority: RR[]; text: string[] } {
    const r = this.rng;
    const answers: RR[] = [];
    const text: string[] = [];
    const s = this.byName.get(qname);
    const soa = (zone: string): RR => ({ name: zone, ttl: 900, rd: { type: 6, mname: `ns1.${zone}`, rname: `dns-admin.${zone}`, serial: 2026011501 } });
    const zoneOf = (n: string) => n.split('.').slice(-2).join('.');
    if (qtype === QT.A || qtype === QT.AAAA) {
      if (!s) return { answers, rcode: 3, authority: [soa(zoneOf(qname))], text };
      let owner = qname;
      for (const c of s.cname ?? []) {
        answers.push({ name: owner, ttl: r.int(60, 3600), rd: { type: 5, name: c } });
        text.push(c);
        owner = c;
      }
      if (qtype === QT.A) {
        answers.push({ name: owner, ttl: r.int(30, 300), rd: { type: 1, addr: s.host.ip } });
        text.push(s.host.ip);
      } else if (s.host6) {
        answers.push({ name: owner, ttl: r.int(30, 300), rd: { type: 28, addr: s.host6.ip } });
        text.push(s.host6.ip);
      }
      return { answers, rcode: 0, authority: answers.length ? [] : [soa(zoneOf(qname))], text };
    }
    if (qtype === QT.MX) {
      const z = qname;
      const mx = z === 'gmail.com' ? ['gmail-smtp-in.l.google.com', 'alt1.gmail-smtp-in.l.google.com'] : [`${z.replace(/\./g, '-')}.mail.protection.outlook.com`];
      mx.forEach((m, i) => {
        answers.push({ name: z, ttl: 3600, rd: { type: 15, pref: (i + 1) * 5, name: m } });
        text.push(`${(i + 1) * 5} ${m}`);
      });
      return { answers, rcode: 0, authority: [], text };
    }
    if (qtype === QT.TXT) {
      const t = [`v=spf1 include:_spf.${qname} include:spf.protection.outlook.com ~all`, `google-site-verification=${r.hex(43)}`];
      for (const x of t) {
        answers.push({ name: qname, ttl: 3600, rd: { type: 16, text: [x] } });
        text.push(x);
      }
      return { answers, rcode: 0, authority: [], text };
    }
    if (qtype === QT.NS) {
      for (const n of [`ns1.${qname}`, `ns2.${qname}`, `ns3.${qname}`]) {
        answers.push({ name: qname, ttl: 172800, rd: { type: 2, name: n } });
        text.push(n);
      }
      return { answers, rcode: 0, authority: [], text };
    }
    if (qtype === QT.PTR) {
      const parts = qname.split('.');
      const target = parts[3] === '10' ? `ws-${parts[0]}-${parts[1]}.corp.example.com` : parts[3] === '8' ? 'dns.google' : `host-${parts[0]}.example.net`;
      answers.push({ name: qname, ttl: 3600, rd: { type: 12, name: target } });
      text.push(target);
      return { answers, rcode: 0, authority: [], text };
    }
    return { answers, rcode: 0, authority: [], text };
  }

  /** Big TXT answer (~3 KB) that forces IPv4 fragmentation over UDP with EDNS. */
  bigTxt(qname: string): { answers: RR[]; text: string[] } {
    const answers: RR[] = [];
    const text: string[] = [];
    for (let i = 0; i < 15; i++) {
      const x = `k${i}=v1; p=${this.rng.hex(200)}`;
      answers.push({ name: qname, ttl: 300, rd: { type: 16, text: [x] } });
      text.push(x);
    }
    return { answers, text };
  }

  dgaName(): string {
    const r = this.rng;
    const n = r.int(12, 22);
    let s = '';
    const cons = 'bcdfghjklmnpqrstvwxz';
    const all = 'abcdefghijklmnopqrstuvwxyz0123456789';
    for (let i = 0; i < n; i++) s += r.chance(0.7) ? all[r.int(0, all.length - 1)] : cons[r.int(0, cons.length - 1)];
    return `${s}.${r.pick(DGA_TLDS)}`;
  }
}
