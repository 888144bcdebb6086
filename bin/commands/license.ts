// `damselfly license keygen | issue | verify`: Ed25519 keys, licenses signed with an issuer key
// (the seed's license JSON), and the check a sensor makes of its license. Logic in license/.
import { writeFileSync } from 'node:fs';
import { helpText, parseArgs, type CommandSpec } from '../cli.js';
import { UserError } from '../../streams/errors.js';
import { b64, generateKeyPair, keyId, readKeyFile, writeKeyFile } from '../../license/keys.js';
import { checkLicense, describeLicenseCheck, issueLicense, licenseBody, readLicenseFile, trustedKeys, LICENSE_TIERS } from '../../license/license.js';

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
    const kp = readKeyFile(need('key'), '--key');
    const body = licenseBody({
      id: need('id'), tier: need('tier'), customer_email: need('email'), company: need('company'), observation: need('observation'),
      expires_at: need('expires'), ...(opt('issued') ? { issued_at: opt('issued')! } : {}),
    });
    const text = JSON.stringify(issueLicense(body, kp.secretKey), null, 2) + '\n';
    const out = opt('out');
    if (out) writeFileSync(out, text, { mode: 0o644 });
    else process.stdout.write(text);
    return 0;
  }
  if (sub === 'verify') {
    if (positional.length !== 1) throw new UserError('license verify needs one license FILE');
    const l = readLicenseFile(positional[0]!);
    const r = checkLicense(l, trustedKeys(need('trusted-keys'), '--trusted-keys'));
    process.stdout.write(describeLicenseCheck(l, r) + '\n');
    return r.ok ? 0 : 1;
  }
  throw new UserError(`license: unknown subcommand '${sub}' (keygen, issue, verify)`);
}
