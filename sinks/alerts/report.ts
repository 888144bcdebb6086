// The alerts report (`damselfly alerts FILE|DIR`): alerts read back from the JSONL the alert sink
// writes, summed per analyzer and per (analyzer, source host), as a table, JSON or CSV. Lines that
// are not alerts are counted and named (file and line), never skipped silently.
import { createReadStream } from 'node:fs';
import { filesUnder } from '../files.js';
import { createInterface } from 'node:readline';
import { SEVERITIES } from '../../streams/events/fields.js';

export type ReportFormat = 'table' | 'json' | 'csv';
export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'json', 'csv'];

type Severity = (typeof SEVERITIES)[number];

export interface AnalyzerRow {
  analyzer: string;
  alerts: number;
  hosts: number;
  max_score: number;
  /** Alerts per severity. */
  severities: Record<Severity, number>;
  /** Event time (µs since epoch) of the first and last alert. */
  first_ts: number;
  last_ts: number;
}

export interface HostRow {
  analyzer: string;
  saddr: string;
  alerts: number;
  max_score: number;
  /** The most frequent reason. */
  top_reason: string;
  first_ts: number;
  last_ts: number;
}

export interface AlertsReport {
  files: string[];
  alerts: number;
  analyzers: AnalyzerRow[];
  hosts: HostRow[];
  /** Lines that were not alerts: how many, and where the first was. */
  bad: { lines: number; first?: string };
}

/** The JSONL files of FILE or, for a directory, every *.jsonl under it (sorted). */
export function alertFiles(path: string): string[] {
  return filesUnder(path, '.jsonl', 'alerts');
}

interface HostAcc extends Omit<HostRow, 'top_reason'> {
  reasons: Map<string, number>;
}

function isAlert(x: unknown): x is { analyzer: string; score: number; severity?: string; saddr?: string; reason?: string; ts?: number } {
  if (typeof x !== 'object' || x === null) return false;
  const a = x as Record<string, unknown>;
  return (a.type === undefined || a.type === 'alert') && typeof a.analyzer === 'string' && typeof a.score === 'number';
}

export async function buildAlertsReport(path: string): Promise<AlertsReport> {
  const files = alertFiles(path);
  const perAnalyzer = new Map<string, AnalyzerRow & { hostSet: Set<string> }>();
  const perHost = new Map<string, HostAcc>();
  const bad: AlertsReport['bad'] = { lines: 0 };
  let alerts = 0;
  for (const file of files) {
    const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let n = 0;
    for await (const line of rl) {
      n++;
      if (line.trim() === '') continue;
      let a: unknown;
      try {
        a = JSON.parse(line);
      } catch {
        a = undefined;
      }
      if (!isAlert(a)) {
        bad.lines++;
        bad.first ??= `${file}:${n}`;
        continue;
      }
      alerts++;
      const ts = typeof a.ts === 'number' ? a.ts : 0;
      const sev = (SEVERITIES as readonly string[]).includes(a.severity ?? '') ? (a.severity as Severity) : undefined;
      let r = perAnalyzer.get(a.analyzer);
      if (!r) {
        r = { analyzer: a.analyzer, alerts: 0, hosts: 0, max_score: 0, severities: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>, first_ts: ts, last_ts: ts, hostSet: new Set() };
        perAnalyzer.set(a.analyzer, r);
      }
      r.alerts++;
      r.max_score = Math.max(r.max_score, a.score);
      if (sev) r.severities[sev]++;
      r.first_ts = Math.min(r.first_ts, ts);
      r.last_ts = Math.max(r.last_ts, ts);
      const host = a.saddr ?? '';
      r.hostSet.add(host);
      const k = `${a.analyzer}\u0000${host}`;
      let h = perHost.get(k);
      if (!h) {
        h = { analyzer: a.analyzer, saddr: host, alerts: 0, max_score: 0, first_ts: ts, last_ts: ts, reasons: new Map() };
        perHost.set(k, h);
      }
      h.alerts++;
      h.max_score = Math.max(h.max_score, a.score);
      h.first_ts = Math.min(h.first_ts, ts);
      h.last_ts = Math.max(h.last_ts, ts);
      const reason = a.reason ?? '';
      h.reasons.set(reason, (h.reasons.get(reason) ?? 0) + 1);
    }
  }
  const analyzers = [...perAnalyzer.values()]
    .map(({ hostSet, ...r }) => ({ ...r, hosts: hostSet.size }))
    .sort((x, y) => y.alerts - x.alerts || x.analyzer.localeCompare(y.analyzer));
  const hosts = [...perHost.values()]
    .map(({ reasons, ...h }) => ({ ...h, top_reason: [...reasons].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0]?.[0] ?? '' }))
    .sort((x, y) => y.alerts - x.alerts || y.max_score - x.max_score || (x.analyzer + x.saddr < y.analyzer + y.saddr ? -1 : 1));
  return { files, alerts, analyzers, hosts, bad };
}

function iso(ts: number): string {
  return ts > 0 ? new Date(ts / 1000).toISOString().replace('.000Z', 'Z') : '';
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The report as text. `top` caps the host rows of the table (0 = all); JSON and CSV have every row.
 * CSV is one table: one row per (analyzer, host), with the analyzer's totals repeated.
 */
export function formatAlertsReport(r: AlertsReport, format: ReportFormat, top = 20): string {
  if (format === 'json') return JSON.stringify({ files: r.files, alerts: r.alerts, analyzers: r.analyzers, hosts: r.hosts, bad_lines: r.bad.lines }, null, 2) + '\n';
  if (format === 'csv') {
    const byName = new Map(r.analyzers.map((a) => [a.analyzer, a]));
    const head = ['analyzer', 'saddr', 'alerts', 'max_score', 'top_reason', 'first', 'last', 'analyzer_alerts', 'analyzer_hosts', ...SEVERITIES.map((s) => `analyzer_${s.toLowerCase()}`)];
    const rows = r.hosts.map((h) => {
      const a = byName.get(h.analyzer)!;
      return [h.analyzer, h.saddr, h.alerts, h.max_score, h.top_reason, iso(h.first_ts), iso(h.last_ts), a.alerts, a.hosts, ...SEVERITIES.map((s) => a.severities[s])];
    });
    return [head, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
  }
  const out: string[] = [`${r.alerts} alerts in ${r.files.length} file${r.files.length === 1 ? '' : 's'}`, ''];
  out.push(table(
    ['analyzer', 'alerts', 'hosts', 'max score', ...SEVERITIES.map((s) => s.toLowerCase()), 'first', 'last'],
    r.analyzers.map((a) => [a.analyzer, String(a.alerts), String(a.hosts), a.max_score.toFixed(2), ...SEVERITIES.map((s) => String(a.severities[s])), iso(a.first_ts), iso(a.last_ts)]),
  ));
  const shown = top > 0 ? r.hosts.slice(0, top) : r.hosts;
  out.push('', `hosts by alerts${shown.length < r.hosts.length ? ` (top ${shown.length} of ${r.hosts.length}; --top 0 for all)` : ''}:`);
  out.push(table(
    ['analyzer', 'host', 'alerts', 'max score', 'top reason'],
    shown.map((h) => [h.analyzer, h.saddr || '-', String(h.alerts), h.max_score.toFixed(2), h.top_reason]),
  ));
  return out.join('\n') + '\n';
}
