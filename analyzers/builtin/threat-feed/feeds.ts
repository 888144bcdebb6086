// Threat-feed parsing and matching: pure code shared by the sandboxed analyzer and the benchmark.
// A feed is text in one of a few common shapes; every entry goes into one FeedIndex:
//   ip      one IP or CIDR per line (IPv4/IPv6), e.g. FireHOL, Spamhaus DROP ("1.2.3.0/24 ; SBL1")
//   ipsum   `ip<TAB>count` (stamparm/ipsum); entries below `min_count` are skipped (not malformed)
//   domain  one domain per line; hosts-file lines ("0.0.0.0 evil.com") and "*." / leading dots accepted
//   csv     CSV with a header or not; `column` (0-based index or header name) holds an IP/CIDR, a
//           domain or a JA3 hash (each value classified by its shape)
//   ja3     one JA3 (32 hex digits) per line, optionally followed by a comma/tab/space and a label
// Comments (`#`, `;`, `//`) and blank lines are ignored; a line that does not parse is counted as
// malformed (with the first few kept for the report) and skipped, never fatal.
import { PrefixTree, parseIPv4, parseIPv6 } from '../../sdk/prefix-tree.js';

export type FeedFormat = 'ip' | 'ipsum' | 'domain' | 'csv' | 'ja3';
export const FEED_FORMATS: readonly FeedFormat[] = ['ip', 'ipsum', 'domain', 'csv', 'ja3'];

export interface FeedSpec {
  /** Name used in alerts (default: the source). */
  name?: string;
  /** File (relative to the analyzer's config folder; grant it with `files:`) or http(s) URL (also listed in `files:`). */
  source: string;
  format: FeedFormat;
  /** csv: column index (0-based) or header name. */
  column?: number | string;
  /** ipsum: smallest count kept (default 1). */
  min_count?: number;
  /** Alert score for matches of this feed (default: the analyzer's `score`). */
  score?: number;
}

export interface FeedLoad {
  feed: string;
  entries: number;
  skipped: number;
  malformed: number;
  /** First malformed lines, "line N: text". */
  examples: string[];
}

const MAX_EXAMPLES = 5;
const JA3_RE = /^[0-9a-f]{32}$/;
const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{2,63}$/;

export function normDomain(s: string): string {
  let d = s.trim().toLowerCase();
  if (d.startsWith('*.')) d = d.slice(2);
  while (d.startsWith('.')) d = d.slice(1);
  while (d.endsWith('.')) d = d.slice(0, -1);
  return d;
}

function isIp(s: string): boolean {
  const slash = s.indexOf('/');
  const a = slash >= 0 ? s.slice(0, slash) : s;
  return parseIPv4(a) !== undefined || parseIPv6(a) !== undefined;
}

/** Split a CSV line (RFC 4180 quotes). */
export function csvFields(line: string): string[] {
  if (line.indexOf('"') < 0) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"') {
        if (line[i + 1] === '"') (cur += '"', i++);
        else q = false;
      } else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') (out.push(cur), (cur = ''));
    else cur += c;
  }
  out.push(cur);
  return out;
}

export interface FeedHit {
  feed: number;
  /** The feed entry that matched (CIDR, domain or JA3). */
  entry: string;
}

/** Every loaded entry, by kind. Values are feed numbers (index into `feeds`). */
export class FeedIndex {
  readonly ips = new PrefixTree<number>();
  readonly domains = new Map<string, number>();
  readonly ja3 = new Map<string, number>();
  readonly feeds: string[] = [];

  get size(): number {
    return this.ips.size + this.domains.size + this.ja3.size;
  }

  /** Parse `text` as `spec` and add its entries. */
  load(spec: FeedSpec, text: string): FeedLoad {
    const id = this.feeds.length;
    const name = spec.name ?? spec.source;
    this.feeds.push(name);
    const res: FeedLoad = { feed: name, entries: 0, skipped: 0, malformed: 0, examples: [] };
    const bad = (lineNo: number, line: string) => {
      res.malformed++;
      if (res.examples.length < MAX_EXAMPLES) res.examples.push(`line ${lineNo}: ${line.slice(0, 120)}`);
    };
    const minCount = spec.min_count ?? 1;
    let column = typeof spec.column === 'number' ? spec.column : -1;
    let headerSeen = false;
    const addValue = (v: string, lineNo: number, line: string) => {
      const t = v.trim();
      if (t === '') return bad(lineNo, line);
      if (isIp(t)) {
        if (this.ips.add(t, id)) res.entries++;
        else bad(lineNo, line);
        return;
      }
      const lower = t.toLowerCase();
      if (JA3_RE.test(lower)) {
        this.ja3.set(lower, id);
        res.entries++;
        return;
      }
      const d = normDomain(t);
      if (DOMAIN_RE.test(d)) {
        this.domains.set(d, id);
        res.entries++;
      } else bad(lineNo, line);
    };
    let start = 0;
    let lineNo = 0;
    const n = text.length;
    while (start <= n) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = n;
      lineNo++;
      let line = text.slice(start, end);
      start = end + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      const s = line.trim();
      if (s === '' || s[0] === '#' || s[0] === ';' || s.startsWith('//')) {
        if (end === n) break;
        continue;
      }
      switch (spec.format) {
        case 'ip': {
          const tok = s.split(/[\s;,#]+/)[0]!;
          if (this.ips.add(tok, id)) res.entries++;
          else bad(lineNo, line);
          break;
        }
        case 'ipsum': {
          const tab = s.search(/\s/);
          const ip = tab < 0 ? s : s.slice(0, tab);
          const cnt = tab < 0 ? 1 : Number(s.slice(tab + 1).trim());
          if (!Number.isFinite(cnt) || !isIp(ip)) bad(lineNo, line);
          else if (cnt < minCount) res.skipped++;
          else if (this.ips.add(ip, id)) res.entries++;
          else bad(lineNo, line);
          break;
        }
        case 'domain': {
          const parts = s.split(/\s+/);
          // hosts-file style: "0.0.0.0 evil.com" / "127.0.0.1 evil.com"
          const tok = parts.length >= 2 && isIp(parts[0]!) ? parts[1]! : parts[0]!;
          const d = normDomain(tok.split('#')[0]!);
          if (DOMAIN_RE.test(d)) {
            this.domains.set(d, id);
            res.entries++;
          } else bad(lineNo, line);
          break;
        }
        case 'ja3': {
          const tok = s.split(/[\s,;]+/)[0]!.toLowerCase();
          if (JA3_RE.test(tok)) {
            this.ja3.set(tok, id);
            res.entries++;
          } else bad(lineNo, line);
          break;
        }
        case 'csv': {
          const f = csvFields(s);
          if (column < 0) {
            if (!headerSeen && typeof spec.column === 'string') {
              headerSeen = true;
              column = f.findIndex((h) => h.trim().toLowerCase() === String(spec.column).toLowerCase());
              if (column < 0) throw new Error(`feed ${name}: no column named '${spec.column}' in header: ${s.slice(0, 200)}`);
              break;
            }
            column = 0;
          }
          const v = f[column];
          if (v === undefined) bad(lineNo, line);
          else if (lineNo === 1 && !isIp(v.trim()) && !JA3_RE.test(v.trim().toLowerCase()) && !DOMAIN_RE.test(normDomain(v))) {
            // a header line with a numeric column: not an entry, not malformed
          } else addValue(v, lineNo, line);
          break;
        }
        default:
          throw new Error(`feed ${name}: unknown format '${String(spec.format)}' (formats: ${FEED_FORMATS.join(', ')})`);
      }
      if (end === n) break;
    }
    return res;
  }

  matchIp(ip: string): FeedHit | undefined {
    if (!ip) return undefined;
    const m = this.ips.match(ip);
    return m ? { feed: m.value, entry: m.prefix } : undefined;
  }

  /** The domain or its closest listed parent ("a.b.evil.com" matches "evil.com") when `subdomains`. */
  matchDomain(name: string, subdomains = true): FeedHit | undefined {
    if (!name || this.domains.size === 0) return undefined;
    let d = name.length > 0 && (name.charCodeAt(name.length - 1) === 46 || /[A-Z]/.test(name)) ? normDomain(name) : name;
    for (;;) {
      const id = this.domains.get(d);
      if (id !== undefined) return { feed: id, entry: d };
      if (!subdomains) return undefined;
      const dot = d.indexOf('.');
      if (dot < 0) return undefined;
      d = d.slice(dot + 1);
      if (d.indexOf('.') < 0) return undefined; // never match a bare TLD
    }
  }

  matchJa3(h: string): FeedHit | undefined {
    if (!h || this.ja3.size === 0) return undefined;
    const id = this.ja3.get(h.toLowerCase());
    return id === undefined ? undefined : { feed: id, entry: h.toLowerCase() };
  }
}
