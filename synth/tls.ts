// TLS 1.2 / 1.3 handshake structures: Chrome/Firefox/legacy ClientHellos (with GREASE), server
// hellos, a DER X.509 certificate chain, key exchange messages.
import type { Rng } from './rng.js';

const GREASE = [0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa];

class B {
  b: number[] = [];
  u8(v: number) {
    this.b.push(v & 0xff);
    return this;
  }
  u16(v: number) {
    this.b.push((v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  u24(v: number) {
    this.b.push((v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  bytes(a: ArrayLike<number>) {
    for (let i = 0; i < a.length; i++) this.b.push(a[i]!);
    return this;
  }
  str(s: string) {
    for (let i = 0; i < s.length; i++) this.b.push(s.charCodeAt(i) & 0xff);
    return this;
  }
  /** Length-prefixed (1, 2 or 3 bytes) block. */
  block(lenBytes: 1 | 2 | 3, f: (x: B) => void) {
    const x = new B();
    f(x);
    if (lenBytes === 1) this.u8(x.b.length);
    else if (lenBytes === 2) this.u16(x.b.length);
    else this.u24(x.b.length);
    return this.bytes(x.b);
  }
  ext(type: number, f: (x: B) => void) {
    this.u16(type);
    return this.block(2, f);
  }
}

export function record(type: number, body: ArrayLike<number>, version = 0x0303): Uint8Array {
  const o = new Uint8Array(5 + body.length);
  o[0] = type;
  o[1] = version >>> 8;
  o[2] = version & 0xff;
  o[3] = body.length >>> 8;
  o[4] = body.length & 0xff;
  o.set(body as ArrayLike<number>, 5);
  return o;
}

function handshake(type: number, body: number[]): number[] {
  return [type, (body.length >>> 16) & 0xff, (body.length >>> 8) & 0xff, body.length & 0xff, ...body];
}

export type ClientKind = 'chrome' | 'firefox' | 'legacy';

export interface ClientHelloOpts {
  sni: string;
  alpn: string[];
  kind: ClientKind;
}

export interface ClientHello {
  record: Uint8Array;
  sessionId: Uint8Array;
  offers13: boolean;
}

export function clientHello(rng: Rng, o: ClientHelloOpts): ClientHello {
  const g = () => rng.pick(GREASE);
  const gCipher = g();
  let gExt1 = g();
  let gExt2 = g();
  if (gExt2 === gExt1) gExt2 = GREASE[(GREASE.indexOf(gExt1) + 1) % 16]!;
  const gGroup = g();
  const gVer = g();
  const offers13 = o.kind !== 'legacy';
  const sessionId = offers13 ? rng.bytes(32) : new Uint8Array(0);
  const h = new B();
  h.u16(0x0303).bytes(rng.bytes(32));
  h.block(1, (x) => x.bytes(sessionId));
  let ciphers: number[];
  if (o.kind === 'chrome') ciphers = [gCipher, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
  else if (o.kind === 'firefox') ciphers = [0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
  else ciphers = [0xc02c, 0xc02b, 0xc030, 0xc02f, 0x009f, 0x009e, 0xc024, 0xc023, 0xc028, 0xc027, 0xc00a, 0xc009, 0xc014, 0xc013, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff];
  h.block(2, (x) => ciphers.forEach((c) => x.u16(c)));
  h.u8(1).u8(0); // compression: null
  const sni = (x: B) =>
    x.block(2, (l) => {
      l.u8(0);
      l.block(2, (n) => n.str(o.sni));
    });
  const alpn = (x: B) => x.block(2, (l) => o.alpn.forEach((p) => l.block(1, (q) => q.str(p))));
  const sigalgs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
  const exts = new B();
  if (o.kind === 'chrome') {
    exts.ext(gExt1, () => {});
    exts.ext(0x0000, sni);
    exts.ext(0x0017, () => {});
    exts.ext(0xff01, (x) => x.u8(0));
    exts.ext(0x000a, (x) => x.block(2, (l) => [gGroup, 0x001d, 0x0017, 0x0018].forEach((v) => l.u16(v))));
    exts.ext(0x000b, (x) => x.block(1, (l) => l.u8(0)));
    exts.ext(0x0023, () => {});
    if (o.alpn.length) exts.ext(0x0010, alpn);
    exts.ext(0x0005, (x) => x.u8(1).u16(0).u16(0));
    exts.ext(0x000d, (x) => x.block(2, (l) => sigalgs.forEach((v) => l.u16(v))));
    exts.ext(0x0012, () => {});
    exts.ext(0x0033, (x) =>
      x.block(2, (l) => {
        l.u16(gGroup).block(2, (k) => k.u8(0));
        l.u16(0x001d).block(2, (k) => k.bytes(rng.bytes(32)));
      }),
    );
    exts.ext(0x002d, (x) => x.block(1, (l) => l.u8(1)));
    exts.ext(0x002b, (x) => x.block(1, (l) => l.u16(gVer).u16(0x0304).u16(0x0303)));
    exts.ext(0x001b, (x) => x.block(1, (l) => l.u16(0x0002)));
    if (o.alpn.includes('h2')) exts.ext(0x4469, (x) => x.block(2, (l) => l.block(1, (q) => q.str('h2'))));
    exts.ext(gExt2, (x) => x.u8(0));
  } else if (o.kind === 'firefox') {
    exts.ext(0x0000, sni);
    exts.ext(0x0017, () => {});
    exts.ext(0xff01, (x) => x.u8(0));
    exts.ext(0x000a, (x) => x.block(2, (l) => [0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101].forEach((v) => l.u16(v))));
    exts.ext(0x000b, (x) => x.block(1, (l) => l.u8(0)));
    exts.ext(0x0023, () => {});
    if (o.alpn.length) exts.ext(0x0010, alpn);
    exts.ext(0x0005, (x) => x.u8(1).u16(0).u16(0));
    exts.ext(0x0022, (x) => x.block(2, (l) => [0x0403, 0x0503, 0x0603, 0x0203].forEach((v) => l.u16(v))));
    exts.ext(0x0033, (x) =>
      x.block(2, (l) => {
        l.u16(0x001d).block(2, (k) => k.bytes(rng.bytes(32)));
        l.u16(0x0017).block(2, (k) => k.u8(4).bytes(rng.bytes(64)));
      }),
    );
    exts.ext(0x002b, (x) => x.block(1, (l) => l.u16(0x0304).u16(0x0303)));
    exts.ext(0x000d, (x) => x.block(2, (l) => [...sigalgs, 0x0203, 0x0201].forEach((v) => l.u16(v))));
    exts.ext(0x002d, (x) => x.block(1, (l) => l.u8(1)));
    exts.ext(0x001c, (x) => x.u16(0x4001)); // record_size_limit
  } else {
    exts.ext(0x0000, sni);
    exts.ext(0x0005, (x) => x.u8(1).u16(0).u16(0));
    exts.ext(0x000a, (x) => x.block(2, (l) => [0x0017, 0x0018, 0x0019].forEach((v) => l.u16(v))));
    exts.ext(0x000b, (x) => x.block(1, (l) => l.u8(0)));
    exts.ext(0x000d, (x) => x.block(2, (l) => [0x0603, 0x0503, 0x0403, 0x0601, 0x0501, 0x0401, 0x0201].forEach((v) => l.u16(v))));
    exts.ext(0x0017, () => {});
    if (o.alpn.length) exts.ext(0x0010, alpn);
  }
  // BoringSSL-style padding: avoid ClientHello lengths in (255, 512).
  const bodyLen = h.b.length + 2 + exts.b.length;
  if (o.kind === 'chrome' && bodyLen + 4 > 0xff && bodyLen + 4 < 0x200) {
    let padLen = 0x200 - (bodyLen + 4) - 4;
    if (padLen < 1) padLen = 1;
    exts.ext(0x0015, (x) => x.bytes(new Array<number>(padLen).fill(0)));
  }
  h.block(2, (x) => x.bytes(exts.b));
  return { record: record(0x16, handshake(1, h.b), 0x0301), sessionId, offers13 };
}

export interface ServerHelloOpts {
  tls13: boolean;
  cipher: number;
  sessionId: Uint8Array;
  alpn?: string;
}

function serverHelloBody(rng: Rng, o: ServerHelloOpts): number[] {
  const h = new B();
  h.u16(0x0303).bytes(rng.bytes(32));
  h.block(1, (x) => x.bytes(o.tls13 ? o.sessionId : rng.bytes(32)));
  h.u16(o.cipher).u8(0);
  const e = new B();
  if (o.tls13) {
    e.ext(0x002b, (x) => x.u16(0x0304));
    e.ext(0x0033, (x) => x.u16(0x001d).block(2, (k) => k.bytes(rng.bytes(32))));
  } else {
    e.ext(0xff01, (x) => x.u8(0));
    e.ext(0x000b, (x) => x.block(1, (l) => l.u8(0).u8(1).u8(2)));
    e.ext(0x0017, () => {});
    e.ext(0x0023, () => {});
    if (o.alpn) e.ext(0x0010, (x) => x.block(2, (l) => l.block(1, (q) => q.str(o.alpn!))));
  }
  h.block(2, (x) => x.bytes(e.b));
  return handshake(2, h.b);
}

// ---------------------------------------------------------------------------------------------
// DER / X.509

function derLen(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >>> 8, n & 0xff];
}
function tlv(tag: number, content: number[]): number[] {
  return [tag, ...derLen(content.length), ...content];
}
const seq = (...parts: number[][]) => tlv(0x30, parts.flat());
const set = (...parts: number[][]) => tlv(0x31, parts.flat());
const oid = (bytes: number[]) => tlv(0x06, bytes);
const OID_ECDSA_SHA256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_EC_PUBKEY = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_CN = [0x55, 0x04, 0x03];
const OID_O = [0x55, 0x04, 0x0a];
const OID_C = [0x55, 0x04, 0x06];
const OID_SAN = [0x55, 0x1d, 0x11];
const OID_BASIC = [0x55, 0x1d, 0x13];
const str = (s: string) => Array.from(s, (c) => c.charCodeAt(0) & 0x7f);

function posInt(rng: Rng, n: number): number[] {
  const b = Array.from(rng.bytes(n));
  b[0] = 0x01 + (b[0]! % 0x7f);
  return tlv(0x02, b);
}

function name(c: string, o: string, cn: string): number[] {
  return seq(
    set(seq(oid(OID_C), tlv(0x13, str(c)))),
    set(seq(oid(OID_O), tlv(0x0c, str(o)))),
    set(seq(oid(OID_CN), tlv(0x0c, str(cn)))),
  );
}

function utcTime(d: Date): number[] {
  const p = (n: number) => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, str(s));
}

export function ecdsaSig(rng: Rng): number[] {
  return seq(posInt(rng, 32), posInt(rng, 32));
}

/** A syntactically valid ECDSA P-256 X.509 v3 certificate (random key and signature). */
export function certificate(rng: Rng, subjectCn: string, issuerCn: string, issuerO: string, notBefore: number, ca: boolean): number[] {
  const nb = new Date(notBefore);
  const na = new Date(notBefore + (ca ? 5 * 365 : 90) * 86400e3);
  const exts: number[][] = [];
  if (ca) exts.push(seq(oid(OID_BASIC), [0x01, 0x01, 0xff], tlv(0x04, seq([0x01, 0x01, 0xff], tlv(0x02, [0])))));
  else {
    const names = [subjectCn];
    if (!subjectCn.startsWith('*.') && subjectCn.split('.').length === 2) names.push('www.' + subjectCn);
    exts.push(seq(oid(OID_SAN), tlv(0x04, seq(...names.map((n) => tlv(0x82, str(n)))))));
  }
  const tbs = seq(
    tlv(0xa0, tlv(0x02, [2])),
    posInt(rng, 16),
    seq(oid(OID_ECDSA_SHA256)),
    name('US', issuerO, issuerCn),
    seq(utcTime(nb), utcTime(na)),
    name('US', ca ? issuerO : subjectCn.replace(/^\*\./, ''), subjectCn),
    seq(seq(oid(OID_EC_PUBKEY), oid(OID_P256)), tlv(0x03, [0, 4, ...rng.bytes(64)])),
    tlv(0xa3, seq(...exts)),
  );
  return seq(tbs, seq(oid(OID_ECDSA_SHA256)), tlv(0x03, [0, ...ecdsaSig(rng)]));
}

const CAS = [
  ['R11', "Let's Encrypt"],
  ['WE1', 'Google Trust Services'],
  ['DigiCert Global G2 TLS RSA SHA256 2020 CA1', 'DigiCert Inc'],
  ['Sectigo ECC Domain Validation Secure Server CA', 'Sectigo Limited'],
  ['Amazon ECC 01', 'Amazon'],
] as const;

// ---------------------------------------------------------------------------------------------
// Flights

export interface ServerFlight {
  /** Bytes of the server's first flight (records). */
  first: Uint8Array;
  /** TLS 1.3: sizes of the encrypted handshake records that follow (EE+Cert+CV+Fin). */
  encrypted13: number[];
}

/** Per-capture cache of certificate chains (a server presents the same chain every time). */
export type CertCache = Map<string, number[]>;

export function serverFlight12(rng: Rng, o: ServerHelloOpts, sni: string, now: number, cache: CertCache): Uint8Array {
  let certs = cache.get(sni);
  if (!certs) {
    const [caCn, caO] = rng.pick(CAS);
    const leaf = certificate(rng, sni, caCn, caO, now - rng.int(2, 60) * 86400e3, false);
    const inter = certificate(rng, caCn, caO + ' Root', caO, now - 900 * 86400e3, true);
    certs = new B().block(3, (l) => {
      l.block(3, (c) => c.bytes(leaf));
      l.block(3, (c) => c.bytes(inter));
    }).b;
    cache.set(sni, certs);
  }
  const ske = new B();
  ske.u8(3).u16(0x001d).block(1, (k) => k.bytes(rng.bytes(32)));
  ske.u16(0x0403).block(2, (s) => s.bytes(ecdsaSig(rng)));
  const msgs = [...serverHelloBody(rng, o), ...handshake(11, certs), ...handshake(12, ske.b), ...handshake(14, [])];
  return record(0x16, msgs);
}

export function serverHello13(rng: Rng, o: ServerHelloOpts): Uint8Array {
  const sh = record(0x16, serverHelloBody(rng, o));
  const out = new Uint8Array(sh.length + 6);
  out.set(sh, 0);
  out.set([0x14, 0x03, 0x03, 0x00, 0x01, 0x01], sh.length); // ChangeCipherSpec (compat)
  return out;
}

/** TLS 1.2 client second flight: ClientKeyExchange, ChangeCipherSpec, encrypted Finished. */
export function clientFinish12(rng: Rng): Uint8Array {
  const cke = record(0x16, handshake(16, new B().block(1, (k) => k.bytes(rng.bytes(32))).b));
  const ccs = record(0x14, [1]);
  const fin = record(0x16, rng.bytes(40));
  return concat([cke, ccs, fin]);
}

/** TLS 1.2 server second flight: NewSessionTicket, ChangeCipherSpec, encrypted Finished. */
export function serverFinish12(rng: Rng): Uint8Array {
  const tb = new B();
  tb.u16(0).u16(0x1c20); // lifetime hint 7200 (u32)
  tb.block(2, (t) => t.bytes(rng.bytes(rng.pick([160, 176, 192]))));
  const nst = record(0x16, handshake(4, tb.b));
  const ccs = record(0x14, [1]);
  const fin = record(0x16, rng.bytes(40));
  return concat([nst, ccs, fin]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const o = new Uint8Array(n);
  let k = 0;
  for (const p of parts) {
    o.set(p, k);
    k += p.length;
  }
  return o;
}

export const CCS = Uint8Array.from([0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
