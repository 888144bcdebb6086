// Threat-feed analyzer (built-in): loads IP/CIDR, domain and JA3 indicator feeds at setup and
// alerts when traffic touches them — flow saddr/daddr, DNS query names and CNAME/answers, TLS SNI
// and JA3, HTTP Host. Feeds are files granted by `files:` or http(s) URLs (listed in `files:` too;
// the runtime fetches them, the sandbox has no network). A changed file, or a URL whose content
// changed at the `refresh_s` schedule, hot-reloads the analyzer with the new lists.
import type { Ctx, DnsEvent, FlowEvent, HttpEvent, TlsEvent } from '../../sdk/index.js';
import { FeedIndex, type FeedHit, type FeedLoad, type FeedSpec } from './feeds.js';

export const config = {
  feeds: [] as FeedSpec[],
  /** Default alert score of a match (per feed: `score`). */
  score: 0.9,
  /** A listed domain also matches its subdomains. */
  match_subdomains: true,
  /** Match flow events (saddr/daddr); L7 events carry the same addresses, so they are not re-checked. */
  match_flows: true,
};

/** A feed hit at the default score (0.9) is HIGH; a feed scored 0.95 or more (per feed `score`) is CRITICAL. */
export const severity = { medium: 0.5, high: 0.75, critical: 0.95 };

type Config = typeof config;

let index = new FeedIndex();
let specs: FeedSpec[] = [];
let loads: FeedLoad[] = [];

export function setup(ctx: Ctx<Config>): void {
  index = new FeedIndex();
  specs = [];
  loads = [];
  for (const spec of ctx.config.feeds) {
    if (!spec || typeof spec.source !== 'string' || typeof spec.format !== 'string') {
      throw new Error(`threat-feed: each feed needs 'source' and 'format' (got ${JSON.stringify(spec)})`);
    }
    let text: string;
    try {
      text = ctx.files.read(spec.source);
    } catch (e) {
      // One unreadable feed must not take the others down: report it and go on.
      ctx.log('error', `feed ${spec.name ?? spec.source}: ${(e as Error).message}`);
      specs.push(spec);
      index.feeds.push(spec.name ?? spec.source);
      loads.push({ feed: spec.name ?? spec.source, entries: 0, skipped: 0, malformed: 0, examples: [] });
      continue;
    }
    specs.push(spec);
    const r = index.load(spec, text);
    loads.push(r);
    ctx.log(
      r.malformed > 0 ? 'warn' : 'info',
      `feed ${r.feed}: ${r.entries} entries${r.skipped ? `, ${r.skipped} below min_count` : ''}${r.malformed ? `, ${r.malformed} malformed lines skipped (${r.examples.join('; ')})` : ''}`,
    );
    ctx.score('feed_entries', r.entries);
    ctx.score('feed_malformed', r.malformed);
  }
}

function raise(ctx: Ctx<Config>, hit: FeedHit, what: string, value: string): void {
  const spec = specs[hit.feed];
  const feed = index.feeds[hit.feed] ?? '';
  ctx.alert({
    score: typeof spec?.score === 'number' ? spec.score : ctx.config.score,
    reason: `threat feed ${feed}: ${what} ${value}`,
    key: `${feed}|${what}|${value}`,
    factors: { feed, indicator: hit.entry, field: what, value },
  });
}

export function flow(e: FlowEvent, ctx: Ctx<Config>): void {
  if (index.ips.size === 0 || !ctx.config.match_flows) return;
  const s = index.matchIp(e.saddr);
  if (s) raise(ctx, s, 'saddr', e.saddr);
  const d = index.matchIp(e.daddr);
  if (d) raise(ctx, d, 'daddr', e.daddr);
}

export function dns(e: DnsEvent, ctx: Ctx<Config>): void {
  // Nothing to match (no feed, or only JA3 lists): do not read the event (answers are JSON).
  if (index.ips.size === 0 && index.domains.size === 0) return;
  const sub = ctx.config.match_subdomains;
  const q = index.matchDomain(e.query, sub);
  if (q) raise(ctx, q, 'dns.query', e.query);
  for (const a of e.answers ?? []) {
    if (a.name && a.name !== e.query) {
      const h = index.matchDomain(a.name, sub);
      if (h) raise(ctx, h, 'dns.answer.name', a.name);
    }
    if (!a.data) continue;
    if (a.type === 'A' || a.type === 'AAAA') {
      const h = index.matchIp(a.data);
      if (h) raise(ctx, h, 'dns.answer', a.data);
    } else if (a.type === 'CNAME' || a.type === 'NS' || a.type === 'PTR' || a.type === 'MX') {
      const name = a.type === 'MX' ? a.data.split(/\s+/).pop()! : a.data;
      const h = index.matchDomain(name, sub);
      if (h) raise(ctx, h, `dns.${a.type.toLowerCase()}`, name);
    }
  }
}

export function tls(e: TlsEvent, ctx: Ctx<Config>): void {
  if (index.domains.size === 0 && index.ja3.size === 0) return;
  if (index.domains.size > 0 && e.sni) {
    const h = index.matchDomain(e.sni, ctx.config.match_subdomains);
    if (h) raise(ctx, h, 'tls.sni', e.sni);
  }
  if (index.ja3.size > 0 && e.ja3) {
    const h = index.matchJa3(e.ja3);
    if (h) raise(ctx, h, 'tls.ja3', e.ja3);
  }
}

export function http(e: HttpEvent, ctx: Ctx<Config>): void {
  if ((index.ips.size === 0 && index.domains.size === 0) || !e.host) return;
  const host = e.host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  const h = index.matchDomain(host, ctx.config.match_subdomains) ?? index.matchIp(host);
  if (h) raise(ctx, h, 'http.host', e.host);
}
