// `damselfly alerts FILE|DIR`: the per-analyzer and per-host report of alerts written by `run`
// or `sink alerts` (sinks/alerts/report.ts), as a table, JSON or CSV.
import { helpText, parseArgs, type CommandSpec } from '../cli.js';
import { UserError } from '../../streams/errors.js';
import { buildAlertsReport, formatAlertsReport, REPORT_FORMATS, type ReportFormat } from '../../sinks/alerts/report.js';

export const ALERTS: CommandSpec = {
  name: 'alerts',
  summary: 'Report alerts per analyzer and per host from an alerts JSONL file, or every *.jsonl under a directory.',
  usage: 'damselfly alerts FILE|DIR [--format table|json|csv] [--top N]',
  config: false,
  flags: [
    { long: 'format', arg: 'FMT', help: 'table (default), json or csv' },
    { long: 'top', arg: 'N', help: 'Host rows in the table (default 20; 0 = all)' },
  ],
  examples: ['damselfly alerts ./flows/alerts.jsonl', 'damselfly alerts ./flows --format csv > alerts.csv'],
};

export async function alertsCommand(argv: string[]): Promise<number> {
  // The one positional argument is the input; the rest are flags.
  const positional = argv.filter((a, i) => !a.startsWith('-') && !(i > 0 && ['--format', '--top'].includes(argv[i - 1]!)));
  const p = parseArgs(ALERTS, {}, argv.filter((a) => !positional.includes(a)));
  if (p.help) {
    process.stdout.write(helpText(ALERTS));
    return 0;
  }
  if (positional.length !== 1) throw new UserError(`alerts needs one FILE or DIR (got ${positional.length === 0 ? 'none' : positional.join(' ')}); see damselfly alerts --help`);
  const format = String(p.opts.format ?? 'table') as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw new UserError(`--format ${format}: unsupported (table, json, csv)`);
  const top = p.opts.top === undefined ? 20 : Number(p.opts.top);
  if (!Number.isInteger(top) || top < 0) throw new UserError(`--top ${String(p.opts.top)}: must be a whole number ≥ 0`);
  const r = await buildAlertsReport(positional[0]!);
  process.stdout.write(formatAlertsReport(r, format, top));
  if (r.bad.lines > 0) {
    process.stderr.write(`damselfly: ${r.bad.lines} lines are not alerts (first at ${r.bad.first}); the report leaves them out\n`);
    return 1;
  }
  return 0;
}
