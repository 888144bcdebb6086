// Licenses (the seed's Licensing section): a JSON file {id, tier, customer_email, company,
// observation, issued_at, expires_at, signature}, the signature an Ed25519 signature by the issuer
// over the canonical JSON of the other fields (keys sorted, no whitespace). Found via --license,
// DAMSELFLY_LICENSE_PATH or `license.path`. Trusted issuer keys are configuration
// (`license.trusted_keys`), never built in. The licensed tier caps what the lake writes (none →
// Community, with one warning); an expired, tampered or untrusted license is refused.
import { readFileSync } from 'node:fs';
import { UserError } from '../streams/errors.js';
import { str, type Config, type SectionSpec } from '../streams/config.js';
import { keyId, parsePublicKey, sign, verifySignature } from './keys.js';

export const LICENSE_TIERS = ['community', 'basic', 'professional', 'enterprise'] as const;
export type LicenseTier = (typeof LICENSE_TIERS)[number];
export const tierRank = (t: LicenseTier): number => LICENSE_TIERS.indexOf(t);

export interface LicenseBody {
  id: string;
  tier: LicenseTier;
  customer_email: string;
  company: string;
  observation: string;
  issued_at: string;
  expires_at: string;
}
export interface License extends LicenseBody {
  signature: string;
}

export const LICENSE_ENV = 'DAMSELFLY_LICENSE_PATH';

/** The `license` config section. */
export const LICENSE_CONFIG_SECTION: SectionSpec = {
  path: { type: 'string', description: `License file (JSON with an Ed25519 signature); also ${LICENSE_ENV} or --license`, example: '/etc/damselfly/license.json' },
  trusted_keys: { type: 'string', description: 'Issuer public keys (base64 Ed25519, comma separated) whose licenses are accepted', example: 'Wb1r…base64…=' },
  signing_key: { type: 'string', description: 'This writer\'s Ed25519 key file (damselfly license keygen): signs the provenance of every Parquet file it writes', example: '/etc/damselfly/sensor.key' },
  trusted_signers: { type: 'string', description: '`damselfly verify`: writer public keys (base64, comma separated) whose files are trusted; without it the signer is reported, not checked', example: '' },
};

const FIELDS: (keyof LicenseBody)[] = ['id', 'tier', 'customer_email', 'company', 'observation', 'issued_at', 'expires_at'];

/** The bytes a license signature covers: the fields other than `signature`, keys sorted, compact JSON. */
export function canonicalLicense(l: LicenseBody): string {
  const o: Record<string, string> = {};
  for (const k of [...FIELDS].sort()) o[k] = String(l[k]);
  return JSON.stringify(o);
}

export function issueLicense(body: LicenseBody, issuerSecret: Uint8Array): License {
  return { ...body, signature: sign(canonicalLicense(body), issuerSecret) };
}

/** Parses and checks a license's shape (not its signature); `where` names the source in errors. */
export function parseLicense(text: string, where: string): License {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new UserError(`license ${where}: not JSON`, { code: 'CONFIG' });
  }
  const missing = [...FIELDS, 'signature'].filter((k) => typeof o[k] !== 'string' || o[k] === '');
  if (missing.length > 0) throw new UserError(`license ${where}: missing ${missing.join(', ')}`, { code: 'CONFIG' });
  if (!(LICENSE_TIERS as readonly string[]).includes(String(o.tier))) throw new UserError(`license ${where}: tier '${String(o.tier)}' is not one of ${LICENSE_TIERS.join(', ')}`, { code: 'CONFIG' });
  for (const k of ['issued_at', 'expires_at']) {
    if (Number.isNaN(Date.parse(String(o[k])))) throw new UserError(`license ${where}: ${k} '${String(o[k])}' is not a date`, { code: 'CONFIG' });
  }
  return o as unknown as License;
}

export type LicenseCheck = { ok: true; issuer: string } | { ok: false; reason: string };

/** Whether a license was signed by one of the trusted issuers and is valid at `now`. */
export function checkLicense(l: License, trusted: readonly Uint8Array[], now = new Date()): LicenseCheck {
  if (trusted.length === 0) return { ok: false, reason: 'no trusted issuer keys are configured (license.trusted_keys)' };
  const issuer = trusted.find((k) => verifySignature(canonicalLicense(l), l.signature, k));
  if (!issuer) return { ok: false, reason: 'the signature does not verify with any trusted issuer key (edited, or issued by another key)' };
  if (Date.parse(l.issued_at) > now.getTime()) return { ok: false, reason: `not valid before ${l.issued_at}` };
  if (Date.parse(l.expires_at) <= now.getTime()) return { ok: false, reason: `expired at ${l.expires_at}` };
  return { ok: true, issuer: keyId(issuer) };
}

/** Reads and parses a license file (shape only); a UserError names the path. */
export function readLicenseFile(path: string): License {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`license: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`, { code: 'CONFIG' });
  }
  return parseLicense(text, path);
}

/**
 * A license body from what an issuer gives: the tier checked, dates parsed (issued_at defaults to
 * `now`) and written as ISO UTC without milliseconds.
 */
export function licenseBody(f: Omit<LicenseBody, 'tier' | 'issued_at'> & { tier: string; issued_at?: string }, now = new Date()): LicenseBody {
  if (!(LICENSE_TIERS as readonly string[]).includes(f.tier)) throw new UserError(`license: tier ${f.tier}: one of ${LICENSE_TIERS.join(', ')}`);
  const date = (k: string, v: string): string => {
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw new UserError(`license: ${k} ${v}: not a date`);
    return new Date(t).toISOString().replace(/\.000Z$/, 'Z');
  };
  // the seed's field order
  return {
    id: f.id, tier: f.tier as LicenseTier, customer_email: f.customer_email, company: f.company, observation: f.observation,
    issued_at: date('issued_at', f.issued_at ?? now.toISOString()), expires_at: date('expires_at', f.expires_at),
  };
}

/** One line on a checked license: valid (tier, holder, observation, expiry, issuer key) or REFUSED with the reason. */
export function describeLicenseCheck(l: License, r: LicenseCheck): string {
  return r.ok
    ? `license ${l.id}: valid: ${l.tier} for ${l.company} <${l.customer_email}>, observation ${l.observation}, until ${l.expires_at}, issued by key ${r.issuer}`
    : `license ${l.id}: REFUSED: ${r.reason}`;
}

export function trustedKeys(list: string | undefined, what: string): Uint8Array[] {
  return (list ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => parsePublicKey(s, what));
}

/** The license file named by the flag/env/config, in that order; undefined when none is. */
export function licensePath(c: Config, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return str(c, 'license', 'path') || env[LICENSE_ENV] || undefined;
}

/**
 * The license in force, checked: undefined without one (the caller then caps at Community with a
 * warning); a UserError (exit 2) when one is named but cannot be read, is malformed, expired,
 * tampered or signed by an untrusted key.
 */
export function loadLicense(c: Config, env: NodeJS.ProcessEnv = process.env, now = new Date()): License | undefined {
  const path = licensePath(c, env);
  if (!path) return undefined;
  const l = readLicenseFile(path);
  const r = checkLicense(l, trustedKeys(str(c, 'license', 'trusted_keys'), 'license.trusted_keys'), now);
  if (!r.ok) throw new UserError(`license ${path} (${l.id}) refused: ${r.reason}`, { code: 'CONFIG' });
  return l;
}
