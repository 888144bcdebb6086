// DGA analyzer (built-in): scores DNS query names and TLS SNI with a random forest over lexical
// features (features.ts) and alerts above a threshold. Written against the SDK like any user
// analyzer and run in its own sandbox; its model is model.json beside it (`npm run train:dga`).
//
// Config (analyzers/builtin/dga/config.yaml or the pipeline config):
//   enabled: false          turn it off
//   threshold: 0.97         alert at or above this score (null = the model's trained operating point)
//   min_label_length: 6     skip shorter registrable labels (too little signal: "bit.ly", "t.co")
//   ignore_suffixes: [...]  names under these suffixes are never scored (reverse DNS, local zones)
import { Forest, type Ctx, type DnsEvent, type TlsEvent } from '../../sdk/index.js';
import { compileLexicon, partsFeatures, splitDomain, FEATURE_NAMES, type CompiledLexicon } from './features.js';
import type { DgaModel } from './model.js';

export const config = {
  threshold: null as number | null,
  model: 'model.json',
  min_label_length: 6,
  ignore_suffixes: ['in-addr.arpa', 'ip6.arpa', 'local', 'localhost', 'lan', 'home.arpa', 'internal'],
  /** Scores remembered per name (repeated lookups of popular names are not re-scored). */
  cache_size: 50000,
};

/**
 * A DGA-looking name is worth a look, not an emergency on its own: MEDIUM at the model's operating
 * point, HIGH and CRITICAL only for scores the forest is near-unanimous on. (Operators override
 * with `severity:` in dga.yaml.)
 */
export const severity = { medium: 0, high: 0.99, critical: 0.999 };

type Config = typeof config;

let forest: Forest | undefined;
/** The model's n-gram tables compiled; the model's JSON is dropped after setup (heap budget). */
let lexicon: CompiledLexicon | undefined;
let threshold = 1;
let suffixes: string[] = [];
const cache = new Map<string, number>();
/** What an alert on a name says beyond its score, kept for names at or above the threshold. */
const factorsOf = new Map<string, Record<string, unknown>>();
/** Scratch feature vector. */
const vec: number[] = new Array<number>(FEATURE_NAMES.length);

export function setup(ctx: Ctx<Config>): void {
  const model = ctx.files.json<DgaModel>(ctx.config.model);
  forest = new Forest(model);
  lexicon = compileLexicon(model.lexicon);
  if (model.features.join(',') !== FEATURE_NAMES.join(',')) {
    throw new Error(`${ctx.config.model}: trained on features [${model.features.join(', ')}], this analyzer computes [${FEATURE_NAMES.join(', ')}]; retrain with npm run train:dga`);
  }
  threshold = typeof ctx.config.threshold === 'number' ? ctx.config.threshold : model.threshold;
  suffixes = ctx.config.ignore_suffixes.map((s) => s.toLowerCase().replace(/^\.+|\.+$/g, ''));
  cache.clear();
  factorsOf.clear();
  ctx.log('info', `model ${ctx.config.model}: ${model.trees.length} trees, threshold ${threshold}`);
}

function ignored(name: string): boolean {
  for (const s of suffixes) if (name === s || name.endsWith(`.${s}`)) return true;
  return false;
}

/** DGA probability of `raw`, or undefined when the name is not scored. */
export function scoreName(raw: string, ctx: Ctx<Config>): number | undefined {
  if (!forest || !lexicon || typeof raw !== 'string' || raw.length === 0) return undefined;
  const name = raw.toLowerCase().replace(/\.+$/, '');
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  if (ignored(name) || name.indexOf('.') < 0) return undefined;
  const parts = splitDomain(name);
  if (parts.label.length < ctx.config.min_label_length) return undefined;
  const p = forest.predict(partsFeatures(parts, lexicon, vec));
  if (cache.size >= ctx.config.cache_size) {
    const old = cache.keys().next().value as string;
    cache.delete(old);
    factorsOf.delete(old);
  }
  cache.set(name, p);
  if (p >= threshold) factorsOf.set(name, { name: parts.name, label: parts.label, tld: parts.tld, threshold, features: featureFactors(vec) });
  return p;
}

function check(raw: string, source: 'dns' | 'tls', ctx: Ctx<Config>): void {
  const p = scoreName(raw, ctx);
  if (p === undefined) return;
  ctx.score(source, p);
  if (p < threshold) return;
  // Set with the score for every name at or above the threshold (which only changes in setup,
  // where both maps are cleared).
  const f = factorsOf.get(raw.toLowerCase().replace(/\.+$/, ''))!;
  const name = f.name as string;
  ctx.alert({
    score: p,
    reason: source === 'dns' ? `DGA-like DNS query ${name}` : `DGA-like TLS server name ${name}`,
    key: `dga|${name}`,
    factors: { ...f, source },
  });
}

const SHOWN = ['len', 'entropy', 'digit_ratio', 'max_consonant_run', 'bigram_ll', 'trigram_ll'] as const;
const SHOWN_AT = SHOWN.map((k) => FEATURE_NAMES.indexOf(k));

function featureFactors(v: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  SHOWN.forEach((k, i) => (out[k] = Number(v[SHOWN_AT[i]!]!.toFixed(3))));
  return out;
}

export function dns(e: DnsEvent, ctx: Ctx<Config>): void {
  if (e.qtype === 'PTR') return;
  check(e.query, 'dns', ctx);
}

export function tls(e: TlsEvent, ctx: Ctx<Config>): void {
  if (e.sni) check(e.sni, 'tls', ctx);
}
