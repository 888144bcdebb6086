// QUIC client Initial packets built the way a client sends them, for the sensor's QUIC tests and
// bench/quic-initials.ts: the client's Initial keys (RFC 9001 5.2, RFC 9369 3.3.1) with
// HKDF-Expand-Label written here (Node's crypto.hkdfSync is RFC 5869 HKDF, not TLS 1.3's
// labelled expansion), AES-128-GCM payload protection and AES-128-ECB header protection with
// Node's crypto, CRYPTO frames, padding. Independent of the sensor's C++ (quic_crypto.cc): the
// tests pass only when both agree.
import { createCipheriv, createHmac } from 'node:crypto';

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

const SALT: Record<number, string> = {
  [QUIC_V1]: '38762cf7f55934b34d179ae6a4c80cadccbb7f0a',
  [QUIC_V2]: '0dede3def700a6db819381be6e269dcbf9bd2ed9',
};

/** HKDF-Expand-Label(secret, label, "", len) with SHA-256 (RFC 8446 7.1). */
export function hkdfExpandLabel(secret: Buffer, label: string, len: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'ascii');
  const info = Buffer.concat([Buffer.from([len >> 8, len & 0xff, full.length]), full, Buffer.from([0])]);
  const out: Buffer[] = [];
  let t = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(out).length < len; i++) {
    t = createHmac('sha256', secret).update(Buffer.concat([t, info, Buffer.from([i])])).digest();
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, len);
}

export interface InitialKeys { key: Buffer; iv: Buffer; hp: Buffer; secret: Buffer }

/** The client's Initial keys for a version (v1 or v2) and the client's destination connection id. */
export function clientInitialKeys(version: number, dcid: Buffer): InitialKeys {
  const salt = SALT[version];
  if (!salt) throw new Error(`no salt for version ${version.toString(16)}`);
  const initial = createHmac('sha256', Buffer.from(salt, 'hex')).update(dcid).digest();
  const secret = hkdfExpandLabel(initial, 'client in', 32);
  const p = version === QUIC_V2 ? 'quicv2 ' : 'quic ';
  return { secret, key: hkdfExpandLabel(secret, `${p}key`, 16), iv: hkdfExpandLabel(secret, `${p}iv`, 12), hp: hkdfExpandLabel(secret, `${p}hp`, 16) };
}

/** QUIC variable-length integer (RFC 9000 16). */
export function varint(v: number): Buffer {
  if (v < 0x40) return Buffer.from([v]);
  if (v < 0x4000) return Buffer.from([0x40 | (v >> 8), v & 0xff]);
  if (v < 0x40000000) { const b = Buffer.alloc(4); b.writeUInt32BE(v); b[0]! |= 0x80; return b; }
  throw new Error('varint too large for the tests');
}

/** A CRYPTO frame carrying data at offset. */
export function cryptoFrame(offset: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x06]), varint(offset), varint(data.length), data]);
}

export interface InitialOpts {
  version: number;
  dcid: Buffer;
  scid: Buffer;
  pn: number;
  frames: Buffer;
  /** Pad the payload with PADDING frames to this many bytes (clients pad datagrams to 1200). */
  padTo?: number;
  /** Keys (default: derived from dcid). */
  keys?: InitialKeys;
}

/** One protected client Initial packet (2-byte packet number, no token). */
export function initialPacket(o: InitialOpts): Buffer {
  const keys = o.keys ?? clientInitialKeys(o.version, o.dcid);
  const pnLen = 2;
  let payload = o.frames;
  if (o.padTo !== undefined && payload.length < o.padTo) payload = Buffer.concat([payload, Buffer.alloc(o.padTo - payload.length)]);
  // the header protection sample starts 4 bytes after the packet number: 4 payload bytes at least
  if (payload.length < 4) payload = Buffer.concat([payload, Buffer.alloc(4 - payload.length)]);
  const typeBits = o.version === QUIC_V2 ? 0x01 : 0x00; // Initial: v1 0b00, v2 0b01
  const first = 0xc0 | (typeBits << 4) | (pnLen - 1);
  const len = pnLen + payload.length + 16;
  const ver = Buffer.alloc(4);
  ver.writeUInt32BE(o.version >>> 0);
  const pn = Buffer.from([(o.pn >> 8) & 0xff, o.pn & 0xff]);
  const header = Buffer.concat([Buffer.from([first]), ver, Buffer.from([o.dcid.length]), o.dcid, Buffer.from([o.scid.length]), o.scid,
    varint(0), varint(len), pn]);
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 8; i++) nonce[11 - i]! ^= Number((BigInt(o.pn) >> BigInt(8 * i)) & 0xffn);
  const c = createCipheriv('aes-128-gcm', keys.key, nonce);
  c.setAAD(header);
  const ct = Buffer.concat([c.update(payload), c.final(), c.getAuthTag()]);
  const pkt = Buffer.concat([header, ct]);
  // header protection: sample 16 bytes starting 4 bytes after the packet number's start
  const pnOff = header.length - pnLen;
  const sample = pkt.subarray(pnOff + 4, pnOff + 20);
  const e = createCipheriv('aes-128-ecb', keys.hp, null);
  e.setAutoPadding(false);
  const mask = Buffer.concat([e.update(sample), e.final()]);
  pkt[0]! ^= mask[0]! & 0x0f;
  for (let i = 0; i < pnLen; i++) pkt[pnOff + i]! ^= mask[1 + i]!;
  return pkt;
}
