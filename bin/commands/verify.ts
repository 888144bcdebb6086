// `damselfly verify FILE|DIR`: checks the signed provenance of Parquet files the lake wrote — the
// bytes and the damselfly.* metadata are as the signer wrote them; names the signer and the
// license; with --trusted-signers / --trusted-keys also requires them to be trusted. Exit 1 when
// any file fails. Logic in license/provenance.ts.
import { helpText, parseArgs, type CommandSpec } from '../cli.js';
import { UserError } from '../../streams/errors.js';
import { trustedKeys } from '../../license/license.js';
import { describeVerifyResult, verifyParquetFile } from '../../license/provenance.js';
import { filesUnder } from '../../sinks/files.js';

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
  const files = filesUnder(positional[0]!, '.parquet', 'Parquet');
  let bad = 0;
  for (const f of files) {
    const r = await verifyParquetFile(f, signers, issuers);
    if (!r.ok) bad++;
    process.stdout.write((format === 'json' ? JSON.stringify(r) : describeVerifyResult(r)) + '\n');
  }
  process.stderr.write(`verify: ${files.length - bad} of ${files.length} files verified${bad ? `, ${bad} failed` : ''}\n`);
  return bad > 0 ? 1 : 0;
}
