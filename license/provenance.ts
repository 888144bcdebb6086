// Signed provenance of the lake's Parquet files. Each file's footer carries damselfly.* metadata —
// tier, schema version, observation, the license (id, tier, company, customer email, issue date,
// and the license itself so a reader can check its issuer), the SHA-256 of the file's bytes before
// the footer (`damselfly.content_sha256`: "PAR1" and every page), the writer's public key
// (`damselfly.signer`) — and `damselfly.signature`: the writer's Ed25519 signature over the
// canonical JSON of every other damselfly.* key. `damselfly verify` recomputes the content hash
// from the bytes and checks the signature, so a change to the data or to any damselfly.* key is
// found; it names the signer (trusted or not) and checks the license with the trusted issuers.
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { b64, keyId, parsePublicKey, sign, verifySignature, type KeyPair } from './keys.js';
import { checkLicense, parseLicense, type License } from './license.js';

export const SIGNATURE_KEY = 'damselfly.signature';

/** The bytes a file signature covers: the damselfly.* keys other than the signature, sorted, as compact JSON. */
export function canonicalMetadata(kv: readonly (readonly [string, string])[]): string {
  const o: Record<string, string> = {};
  for (const [k, v] of [...kv].filter(([k]) => k.startsWith('damselfly.') && k !== SIGNATURE_KEY).sort((a, b) => (a[0] < b[0] ? -1 : 1))) o[k] = v;
  return JSON.stringify(o);
}

/** The license keys of a file's metadata (none without a license). */
export function licenseMetadata(l: License | undefined): [string, string][] {
  if (!l) return [];
  return [
    ['damselfly.license_id', l.id],
    ['damselfly.license_tier', l.tier],
    ['damselfly.company', l.company],
    ['damselfly.customer_email', l.customer_email],
    ['damselfly.issued_at', l.issued_at],
    ['damselfly.license', JSON.stringify(l)],
  ];
}

/** The metadata plus content hash, signer and signature. */
export function signMetadata(kv: readonly [string, string][], contentSha256: string, signer: KeyPair): [string, string][] {
  const all: [string, string][] = [...kv, ['damselfly.content_sha256', contentSha256], ['damselfly.signer', b64(signer.publicKey)]];
  return [...all, [SIGNATURE_KEY, sign(canonicalMetadata(all), signer.secretKey)]];
}

export interface VerifyResult {
  file: string;
  /** Bytes and metadata are as the signer wrote them (and the signer is trusted when trusted signers were given). */
  ok: boolean;
  problems: string[];
  signer?: string;
  signerTrusted?: boolean;
  license?: { id: string; tier: string; company: string; valid: boolean | undefined; reason?: string };
  tier?: string;
  observation?: string;
  rows?: number;
}

/** The footer's key/value metadata (Thrift compact FileMetaData, field 5) and where the footer starts. */
async function readFooter(path: string): Promise<{ kv: [string, string][]; footerStart: number }> {
  const size = (await stat(path)).size;
  const fh = await open(path, 'r');
  try {
    if (size < 12) throw new Error('too short for Parquet');
    const tail = Buffer.alloc(8);
    await fh.read(tail, 0, 8, size - 8);
    if (tail.toString('latin1', 4) !== 'PAR1') throw new Error('not a Parquet file (no PAR1 at the end)');
    const len = tail.readUInt32LE(0);
    const footerStart = size - 8 - len;
    if (len === 0 || footerStart < 4) throw new Error('footer length out of range');
    const footer = Buffer.alloc(len);
    await fh.read(footer, 0, len, footerStart);
    return { kv: thriftKeyValues(footer), footerStart };
  } finally {
    await fh.close();
  }
}

/** Checks one Parquet file's provenance. `trustedSigners`/`trustedIssuers` empty: reported, not required. */
export async function verifyParquetFile(path: string, trustedSigners: readonly Uint8Array[], trustedIssuers: readonly Uint8Array[]): Promise<VerifyResult> {
  const r: VerifyResult = { file: path, ok: false, problems: [] };
  let kv: [string, string][];
  let footerStart: number;
  try {
    ({ kv, footerStart } = await readFooter(path));
  } catch (e) {
    r.problems.push((e as Error).message);
    return r;
  }
  const m = new Map(kv);
  r.tier = m.get('damselfly.tier');
  r.observation = m.get('damselfly.observation');
  r.rows = m.has('damselfly.rows') ? Number(m.get('damselfly.rows')) : undefined;
  const sig = m.get(SIGNATURE_KEY);
  const signer = m.get('damselfly.signer');
  if (!sig || !signer) {
    r.problems.push('unsigned (no damselfly.signature / damselfly.signer)');
    return r;
  }
  let pub: Uint8Array;
  try {
    pub = parsePublicKey(signer, 'damselfly.signer');
  } catch (e) {
    r.problems.push((e as Error).message);
    return r;
  }
  r.signer = keyId(pub);
  if (!verifySignature(canonicalMetadata(kv), sig, pub)) r.problems.push('the signature does not match the metadata (a damselfly.* key was changed)');
  const h = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let off = 0; off < footerStart; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, footerStart - off), off);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      off += bytesRead;
    }
  } finally {
    await fh.close();
  }
  if (h.digest('hex') !== m.get('damselfly.content_sha256')) r.problems.push('the content hash does not match the bytes (the data was changed)');
  if (trustedSigners.length > 0) {
    r.signerTrusted = trustedSigners.some((k) => Buffer.from(k).equals(Buffer.from(pub)));
    if (!r.signerTrusted) r.problems.push(`signer ${r.signer} is not one of the trusted signers`);
  }
  const lic = m.get('damselfly.license');
  if (lic) {
    try {
      const l = parseLicense(lic, 'in the file');
      const same = l.id === m.get('damselfly.license_id') && l.company === m.get('damselfly.company');
      const c = trustedIssuers.length > 0 ? checkLicense(l, trustedIssuers, new Date(Date.parse(m.get('damselfly.created_at') ?? '') || Date.now())) : undefined;
      r.license = { id: l.id, tier: l.tier, company: l.company, valid: c?.ok, ...(c && !c.ok ? { reason: c.reason } : {}) };
      if (!same) r.problems.push('the license keys do not match the embedded license');
      if (c && !c.ok) r.problems.push(`license ${l.id}: ${c.reason}`);
    } catch (e) {
      r.problems.push((e as Error).message);
    }
  }
  r.ok = r.problems.length === 0;
  return r;
}

/** One line on a file's check: OK with signer, license, tier and rows, or FAIL with the problems. */
export function describeVerifyResult(r: VerifyResult): string {
  if (!r.ok) return `FAIL ${r.file}: ${r.problems.join('; ')}`;
  const lic = r.license ? `license ${r.license.id} (${r.license.tier}, ${r.license.company}${r.license.valid === undefined ? '' : r.license.valid ? ', valid' : ', INVALID'})` : 'no license';
  return `OK   ${r.file}: signer ${r.signer}${r.signerTrusted ? ' (trusted)' : ''}, ${lic}, tier ${r.tier}, ${r.rows} rows`;
}

// ------------------------------------------------------------------------------------------------
// Just enough of Thrift's compact protocol to find FileMetaData.key_value_metadata (field 5).

function thriftKeyValues(b: Buffer): [string, string][] {
  let p = 0;
  const varint = (): number => {
    let shift = 0;
    let v = 0;
    for (;;) {
      if (p >= b.length) throw new Error('footer: truncated');
      const x = b[p++]!;
      v += (x & 0x7f) * 2 ** shift;
      if (!(x & 0x80)) return v;
      shift += 7;
      if (shift > 63) throw new Error('footer: bad varint');
    }
  };
  const binary = (): Buffer => {
    const n = varint();
    if (p + n > b.length) throw new Error('footer: truncated');
    const s = b.subarray(p, p + n);
    p += n;
    return s;
  };
  const skip = (type: number, depth = 0): void => {
    if (depth > 64) throw new Error('footer: too deep');
    switch (type) {
      case 1: case 2: return; // bool in the type nibble
      case 3: p++; return;
      case 4: case 5: case 6: varint(); return;
      case 7: p += 8; return;
      case 8: binary(); return;
      case 9: case 10: {
        const h = b[p++]!;
        let n = h >> 4;
        if (n === 15) n = varint();
        const et = h & 15;
        for (let i = 0; i < n; i++) skip(et === 1 || et === 2 ? 3 : et, depth + 1);
        return;
      }
      case 11: {
        const n = varint();
        if (n === 0) return;
        const t = b[p++]!;
        for (let i = 0; i < n; i++) {
          skip(t >> 4, depth + 1);
          skip(t & 15, depth + 1);
        }
        return;
      }
      case 12: struct(() => false, depth + 1); return;
      default: throw new Error(`footer: unknown type ${type}`);
    }
  };
  /** Walks a struct; `on(field, type)` returns true when it consumed the field itself. */
  function struct(on: (field: number, type: number) => boolean, depth = 0): void {
    let last = 0;
    for (;;) {
      if (p >= b.length) throw new Error('footer: truncated');
      const h = b[p++]!;
      if (h === 0) return;
      const type = h & 15;
      const delta = h >> 4;
      const field = delta ? last + delta : zigzag(varint());
      last = field;
      if (!on(field, type)) skip(type, depth);
    }
  }
  const zigzag = (n: number): number => (n >>> 1) ^ -(n & 1);
  const out: [string, string][] = [];
  struct((field, type) => {
    if (field !== 5 || type !== 9) return false;
    const h = b[p++]!;
    let n = h >> 4;
    if (n === 15) n = varint();
    for (let i = 0; i < n; i++) {
      let k = '';
      let v = '';
      struct((f, t) => {
        if (t !== 8) return false;
        if (f === 1) k = binary().toString('utf8');
        else if (f === 2) v = binary().toString('utf8');
        else return false;
        return true;
      });
      out.push([k, v]);
    }
    return true;
  });
  return out;
}
