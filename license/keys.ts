// Ed25519 key files (tweetnacl): `damselfly license keygen` writes one; the license issuer signs
// licenses with it, a sensor/sink signs the Parquet files it writes with its own. A key file is
// JSON {"type":"ed25519","public":"<base64 32 bytes>","secret":"<base64 64 bytes>"}, mode 0600.
// Public keys travel as base64; a key's id is the first 16 hex digits of SHA-256 of the public key.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync, chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import nacl from 'tweetnacl';
import { UserError } from '../streams/errors.js';

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function generateKeyPair(): KeyPair {
  return nacl.sign.keyPair();
}

export const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');

/** A base64 Ed25519 public key, checked (32 bytes); `what` names it in the error. */
export function parsePublicKey(s: string, what: string): Uint8Array {
  const buf = Buffer.from(s.trim(), 'base64');
  if (buf.length !== 32 || buf.toString('base64') !== s.trim()) throw new UserError(`${what}: not a base64 Ed25519 public key (32 bytes): '${s.trim().slice(0, 16)}…'`, { code: 'CONFIG' });
  return new Uint8Array(buf);
}

export function keyId(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}

export function writeKeyFile(path: string, kp: KeyPair): void {
  if (existsSync(path)) throw new UserError(`${path} exists: not overwriting a key (remove it first)`);
  writeFileSync(path, JSON.stringify({ type: 'ed25519', public: b64(kp.publicKey), secret: b64(kp.secretKey) }) + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function readKeyFile(path: string, what: string): KeyPair {
  let o: { type?: string; public?: string; secret?: string };
  try {
    o = JSON.parse(readFileSync(path, 'utf8')) as typeof o;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${what}: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'not a key file (JSON)'}`, { code: 'CONFIG' });
  }
  const secret = Buffer.from(String(o.secret ?? ''), 'base64');
  if (o.type !== 'ed25519' || secret.length !== 64) throw new UserError(`${what}: ${path} is not an Ed25519 key file (damselfly license keygen writes one)`, { code: 'CONFIG' });
  const kp = nacl.sign.keyPair.fromSecretKey(new Uint8Array(secret));
  if (o.public !== undefined && o.public !== b64(kp.publicKey)) throw new UserError(`${what}: ${path}: the public key does not belong to the secret key`, { code: 'CONFIG' });
  return kp;
}

export function sign(message: Uint8Array | string, secretKey: Uint8Array): string {
  const m = typeof message === 'string' ? new TextEncoder().encode(message) : message;
  return b64(nacl.sign.detached(m, secretKey));
}

export function verifySignature(message: Uint8Array | string, signatureB64: string, publicKey: Uint8Array): boolean {
  const m = typeof message === 'string' ? new TextEncoder().encode(message) : message;
  const sig = Buffer.from(signatureB64, 'base64');
  if (sig.length !== 64) return false;
  return nacl.sign.detached.verify(m, new Uint8Array(sig), publicKey);
}

/** Where a writer keeps its signing key when `license.signing_key` is not set. */
export function defaultSigningKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || `${env.HOME ?? '.'}/.local/state`;
  return `${base}/damselfly/signing.key`;
}

/** The writer's signing key: read from `path`; at the default path, created on first use. */
export function signingKey(path: string | undefined, onCreate: (path: string, id: string) => void): KeyPair {
  if (path) return readKeyFile(path, 'license.signing_key');
  const p = defaultSigningKeyPath();
  if (existsSync(p)) return readKeyFile(p, 'signing key');
  mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
  const kp = generateKeyPair();
  writeKeyFile(p, kp);
  onCreate(p, keyId(kp.publicKey));
  return kp;
}
