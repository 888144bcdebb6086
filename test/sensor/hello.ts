// Hand-built TLS/DTLS hellos for the sensor's fingerprint tests, and JA4 as FoxIO's spec writes
// it (computed here, independently of the sensor's ja4.cc): proto + version + d|i + counts + ALPN
// first/last characters, then the first 12 hex digits of SHA-256 over the sorted cipher list and
// over the sorted extension list (without SNI and ALPN) + "_" + signature algorithms, each
// 000000000000 when its sorted list is empty.
import { createHash } from 'node:crypto';

const u16 = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff]);
const u24 = (v: number): Buffer => Buffer.from([v >> 16, (v >> 8) & 0xff, v & 0xff]);
const vec8 = (b: Buffer): Buffer => Buffer.concat([Buffer.from([b.length]), b]);
const vec16 = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b]);
const list16 = (vs: number[]): Buffer => Buffer.concat(vs.map(u16));

export type Ext = [type: number, body: Buffer];
export const sni = (name: string): Ext => [0x0000, vec16(Buffer.concat([Buffer.from([0]), vec16(Buffer.from(name, 'ascii'))]))];
export const alpn = (names: string[]): Ext => [0x0010, vec16(Buffer.concat(names.map((n) => vec8(Buffer.from(n, 'ascii')))))];
export const versions = (vs: number[]): Ext => [0x002b, vec8(list16(vs))];
export const sigAlgs = (vs: number[]): Ext => [0x000d, vec16(list16(vs))];
export const groups = (vs: number[]): Ext => [0x000a, vec16(list16(vs))];
export const opaque = (type: number, len: number): Ext => [type, Buffer.alloc(len, 0x42)];

export interface Hello {
  legacy?: number;
  ciphers: number[];
  exts: Ext[];
  /** DTLS: the cookie field after the session id. */
  cookie?: Buffer;
  random?: Buffer;
}

/** A ClientHello handshake message (4-byte header + body); dtls: the DTLS body layout, TLS header. */
export function clientHelloBody(h: Hello): Buffer {
  const exts = Buffer.concat(h.exts.map(([t, b]) => Buffer.concat([u16(t), vec16(b)])));
  return Buffer.concat([
    u16(h.legacy ?? 0x0303), h.random ?? Buffer.alloc(32, 0x11), vec8(Buffer.alloc(32, 0x22)),
    ...(h.cookie !== undefined ? [vec8(h.cookie)] : []),
    vec16(list16(h.ciphers)), Buffer.from([1, 0]), vec16(exts),
  ]);
}

export function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), u24(body.length), body]);
}

/** A ServerHello handshake message; random defaults to a plain one (pass HRR_RANDOM for a HelloRetryRequest). */
export function serverHello(cipher: number, exts: Ext[], random = Buffer.alloc(32, 0x33), legacy = 0x0303): Buffer {
  const e = Buffer.concat(exts.map(([t, b]) => Buffer.concat([u16(t), vec16(b)])));
  return handshake(2, Buffer.concat([u16(legacy), random, vec8(Buffer.alloc(32, 0x22)), u16(cipher), Buffer.from([0]), vec16(e)]));
}

/** SHA-256("HelloRetryRequest"), RFC 8446 4.1.3. */
export const HRR_RANDOM = createHash('sha256').update('HelloRetryRequest').digest();

/** TLS record(s) of one content type around a payload (one record; payloads here are small). */
export function tlsRecord(type: number, payload: Buffer, version = 0x0301): Buffer {
  return Buffer.concat([Buffer.from([type]), u16(version), vec16(payload)]);
}

const GREASE = (v: number): boolean => (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
const hex4 = (v: number): string => v.toString(16).padStart(4, '0');
const sha12 = (s: string, any: boolean): string => (any ? createHash('sha256').update(s).digest('hex').slice(0, 12) : '000000000000');
const VERSION: Record<number, string> = { 0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3', 0xfeff: 'd1', 0xfefd: 'd2', 0xfefc: 'd3' };

/** JA4 of a hello by the spec (see the header); proto 't', 'q' or 'd'. */
export function ja4(h: Hello, proto: 't' | 'q' | 'd'): string {
  const ciphers = h.ciphers.filter((c) => !GREASE(c));
  const exts = h.exts.map(([t]) => t).filter((t) => !GREASE(t));
  const vExt = h.exts.find(([t]) => t === 0x002b);
  let ver = h.legacy ?? 0x0303;
  if (vExt) {
    const vs: number[] = [];
    for (let i = 1; i + 1 < vExt[1].length; i += 2) vs.push(vExt[1].readUInt16BE(i));
    const real = vs.filter((v) => !GREASE(v));
    if (real.length) ver = proto === 'd' ? Math.min(...real) : Math.max(...real);
  }
  const alpnExt = h.exts.find(([t]) => t === 0x10);
  let a = '00';
  if (alpnExt) {
    const first = alpnExt[1].subarray(3, 3 + alpnExt[1][2]!).toString('ascii');
    a = first[0]! + first.at(-1)!;
  }
  const sigExt = h.exts.find(([t]) => t === 0x000d);
  const sigs: number[] = [];
  if (sigExt) for (let i = 2; i + 1 < sigExt[1].length; i += 2) sigs.push(sigExt[1].readUInt16BE(i));
  const two = (n: number): string => String(Math.min(n, 99)).padStart(2, '0');
  // 'd': the hellos here name a domain (the sensor writes 'i' only for a numeric SNI, as nDPI does)
  const head = `${proto}${VERSION[ver] ?? '00'}d${two(ciphers.length)}${two(exts.length)}${a}`;
  const sorted = [...ciphers].sort((x, y) => x - y);
  const ce = exts.filter((t) => t !== 0 && t !== 0x10).sort((x, y) => x - y);
  const cs = ce.map(hex4).join(',') + (sigs.length ? `_${sigs.filter((s) => !GREASE(s)).map(hex4).join(',')}` : '');
  return `${head}_${sha12(sorted.map(hex4).join(','), sorted.length > 0)}_${sha12(cs, ce.length > 0)}`;
}
