// `damselfly license keygen | issue | verify`: Ed25519 keys, licenses signed with an issuer key
// (the seed's license JSON), and the check a sensor makes of its license. Logic in license/.
import { readFileSync, writeFileSync } from 'node:fs';
import { helpText, parseArgs, type CommandSpec } from '../cli.js';
import { UserError } from '../../streams/errors.js';
import { b64, generateKeyPair, keyId, readKeyFile, writeKeyFile } from '../../license/keys.js';
import { checkLicense, issueLicense, parseLicense, trustedKeys, LICENSE_TIERS, type LicenseTier } from '../../license/license.js';

export const LICENSE: CommandSpec = {
  name: 'license',
  summary: 'Ed25519 keys and licenses: keygen (a key file), issue (a signed license), verify (check a license against trusted issuer keys).',
  usage: 'damselfly license keygen --out KEY | license issue --key KEY --id ID --tier TIER --company NAME --email ADDR --observation NAME --expires DATE [--out FILE] | license verify FILE --trusted-keys B64[,B64]',
  config: false,
  flags: [
    { long: 'out', arg: 'FILE', help: 'keygen: the key file to write (mode 0600); issue: the license file (default stdout)' },
    { long: 'key', arg: 'FILE', help: 'issue: the issuer\'s key file' },
    { long: 'id', arg: 'ID', help: 'issue: license id, e.g. lic_abc123' },
    { long: 'tier', arg: 'TIER', help: `issue: ${LICENSE_TIERS.join(', ')}` },
    { long: 'company', arg: 'NAME', help: 'issue: company name' },
    { long: 'email', arg: 'ADDR', help: 'issue: customer e-mail' },
    { long: 'observation', arg: 'NAME', help: 'issue: observation domain the license is for' },
    { long: 'issued', arg: 'DATE', help: 'issue: start of validity (default now)' },
    { long: 'expires', arg: 'DATE', help: 'issue: end of validity (ISO date)' },
    { long: 'trusted-keys', arg: 'B64', help: 'verify: issuer public keys, comma separated' },
  ],
  examples: [
    'damselfly license keygen --out issuer.key',
    'damselfly license issue --key issuer.key --id lic_001 --tier professional --company "Example Corp" --email soc@example.com --observation sensor-01 --expires 2027-12-31 --out license.json',
    'damselfly license verify license.json --trusted-keys "$(jq -r .public issuer.key)"',
  ],
};

export async function licenseCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const positional = rest.filter((a, i) => !a.startsWith('-') && !(i > 0 && rest[i - 1]!.startsWith('--')));
  const p = parseArgs(LICENSE, {}, rest.filter((a) => !positional.includes(a)));
  if (p.help || sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(helpText(LICENSE));
    return sub === undefined ? 2 : 0;
  }
  const opt = (k: string): string | undefined => (p.opts[k] === undefined ? undefined : String(p.opts[k]));
  const need = (k: string): string => {
    const v = opt(k);
    if (v === undefined || v === '') throw new UserError(`license ${sub}: --${k} is required (see damselfly license --help)`);
    return v;
  };
  if (sub === 'keygen') {
    const out = need('out');
    const kp = generateKeyPair();
    writeKeyFile(out, kp);
    process.stdout.write(`${b64(kp.publicKey)}\n`);
    process.stderr.write(`wrote ${out} (key ${keyId(kp.publicKey)}); the line above is its public key, for license.trusted_keys / license.trusted_signers\n`);
    return 0;
  }
  if (sub === 'issue') {
    const tier = need('tier');
    if (!(LICENSE_TIERS as readonly string[]).includes(tier)) throw new UserError(`license issue: --tier ${tier}: one of ${LICENSE_TIERS.join(', ')}`);
    const date = (k: string, v: string): string => {
      const t = Date.parse(v);
      if (Number.isNaN(t)) throw new UserError(`license issue: --${k} ${v}: not a date`);
      return new Date(t).toISOString().replace(/\.000Z$/, 'Z');
    };
    const kp = readKeyFile(need('key'), '--key');
    const l = issueLicense({
      id: need('id'), tier: tier as LicenseTier, customer_email: need('email'), company: need('company'), observation: need('observation'),
      issued_at: date('issued', opt('issued') ?? new Date().toISOString()), expires_at: date('expires', need('expires')),
    }, kp.secretKey);
    const text = JSON.stringify(l, null, 2) + '\n';
    const out = opt('out');
    if (out) writeFileSync(out, text, { mode: 0o644 });
    else process.stdout.write(text);
    return 0;
  }
  if (sub === 'verify') {
    if (positional.length !== 1) throw new UserError('license verify needs one license FILE');
    let text: string;
    try {
      text = readFileSync(positional[0]!, 'utf8');
    } catch (e) {
      throw new UserError(`license verify: cannot read ${positional[0]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const l = parseLicense(text, positional[0]!);
    const r = checkLicense(l, trustedKeys(need('trusted-keys'), '--trusted-keys'));
    if (!r.ok) {
      process.stdout.write(`license ${l.id}: REFUSED: ${r.reason}\n`);
      return 1;
    }
    process.stdout.write(`license ${l.id}: valid: ${l.tier} for ${l.company} <${l.customer_email}>, observation ${l.observation}, until ${l.expires_at}, issued by key ${r.issuer}\n`);
    return 0;
  }
  throw new UserError(`license: unknown subcommand '${sub}' (keygen, issue, verify)`);
}
