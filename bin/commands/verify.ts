// `damselfly verify FILE|DIR`: checks the signed provenance of Parquet files the lake wrote — the
// bytes and the damselfly.* metadata are as the signer wrote them; names the signer and the
// license; with --trusted-signers / --trusted-keys also requires them to be trusted. Exit 1 when
// any file fails. Logic in license/provenance.ts.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { helpText, parseArgs, type CommandSpec } from '../cli.js';
import { UserError } from '../../streams/errors.js';
import { trustedKeys } from '../../license/license.js';
import { verifyParquetFile } from '../../license/provenance.js';

export const VERIFY: CommandSpec = {
  name: 'verify',
  summary: 'Check that Parquet files were written by the signer they name, unaltered (bytes and metadata), under a valid license.',
  usage: 'damselfly verify FILE|DIR [--trusted-signers B64[,B64]] [--trusted-keys B64[,B64]] [--format text|json]',
  config: false,
  flags: [
    { long: 'trusted-signers', arg: 'B64', help: 'Writer public keys whose files are trusted (without it the signer is named, not checked)' },
    { long: 'trusted-keys', arg: 'B64', help: 'License issuer public keys: the embedded license must be signed by one' },
    { long: 'format', arg: 'FMT', help: 'text (default) or json (one object per file)' },
  ],
  examples: ['damselfly verify ./flows', 'damselfly verify ./flows --trusted-signers "$(jq -r .public sensor.key)" --trusted-keys "$(jq -r .public issuer.key)"'],
};

function parquetFiles(p: string): string[] {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) throw new UserError(`verify: ${p}: no such file or directory`);
  if (st.isFile()) return [p];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.')) continue; // temp files of a writer
      const f = join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.name.endsWith('.parquet')) out.push(f);
    }
  };
  walk(p);
  return out;
}

export async function verifyCommand(argv: string[]): Promise<number> {
  const positional = argv.filter((a, i) => !a.startsWith('-') && !(i > 0 && argv[i - 1]!.startsWith('--')));
  const p = parseArgs(VERIFY, {}, argv.filter((a) => !positional.includes(a)));
  if (p.help) {
    process.stdout.write(helpText(VERIFY));
    return 0;
  }
  if (positional.length !== 1) throw new UserError('verify needs one FILE or DIR (see damselfly verify --help)');
  const format = String(p.opts.format ?? 'text');
  if (format !== 'text' && format !== 'json') throw new UserError(`--format ${format}: text or json`);
  const signers = trustedKeys(p.opts['trusted-signers'] === undefined ? undefined : String(p.opts['trusted-signers']), '--trusted-signers');
  const issuers = trustedKeys(p.opts['trusted-keys'] === undefined ? undefined : String(p.opts['trusted-keys']), '--trusted-keys');
  const files = parquetFiles(positional[0]!);
  if (files.length === 0) throw new UserError(`verify: no .parquet files under ${positional[0]}`);
  let bad = 0;
  for (const f of files) {
    const r = await verifyParquetFile(f, signers, issuers);
    if (!r.ok) bad++;
    if (format === 'json') {
      process.stdout.write(JSON.stringify(r) + '\n');
      continue;
    }
    const lic = r.license ? `license ${r.license.id} (${r.license.tier}, ${r.license.company}${r.license.valid === undefined ? '' : r.license.valid ? ', valid' : ', INVALID'})` : 'no license';
    process.stdout.write(r.ok
      ? `OK   ${f}: signer ${r.signer}${r.signerTrusted ? ' (trusted)' : ''}, ${lic}, tier ${r.tier}, ${r.rows} rows\n`
      : `FAIL ${f}: ${r.problems.join('; ')}\n`);
  }
  process.stderr.write(`verify: ${files.length - bad} of ${files.length} files verified${bad ? `, ${bad} failed` : ''}\n`);
  return bad > 0 ? 1 : 0;
}
