// Lexical DGA features of a domain name, shared by the live analyzer (bundled into its isolate)
// and by training (host side): one definition, so the model sees at scoring time exactly what it
// was trained on. Pure functions, no Node APIs.
//
// A name is reduced to its registrable label ("www.kq0qw6o2siwq.org" → "kq0qw6o2siwq", TLD "org";
// "hqxf.com.jm" → "hqxf", TLD "com.jm"): DGAs generate that label, while subdomains of popular
// sites (cdn-12.images.example.com) would look random for reasons that do not matter here.
import { entropy, longestRun, ngramLogLikelihood } from '../../sdk/text.js';

/** Second-level labels that, under a 2-letter country TLD, form a public suffix (com.jm, co.uk). */
const SLD_SUFFIX = new Set(['com', 'co', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go', 'mil', 'gob', 'nic', 'biz', 'info', 'ltd', 'plc', 'sch', 'nom', 'web', 'gen', 'firm', 'in', 'me', 'ind']);

export interface DomainParts {
  /** Lower-cased name without trailing dot. */
  name: string;
  /** The registrable label (what a DGA generates). */
  label: string;
  /** Public suffix (heuristic: last label, or last two for `com.jm`-style suffixes). */
  tld: string;
  /** Labels in front of `label`. */
  subdomains: number;
}

export function splitDomain(raw: string): DomainParts {
  const name = raw.trim().toLowerCase().replace(/\.+$/, '');
  const labels = name.split('.').filter((l) => l.length > 0);
  if (labels.length <= 1) return { name, label: labels[0] ?? '', tld: '', subdomains: 0 };
  let suffixLen = 1;
  const last = labels[labels.length - 1]!;
  const prev = labels[labels.length - 2]!;
  if (labels.length >= 3 && last.length === 2 && SLD_SUFFIX.has(prev)) suffixLen = 2;
  const tld = labels.slice(labels.length - suffixLen).join('.');
  // The longest label in front of the suffix: the registrable one for most names, and the
  // generated one under dynamic-DNS/hosting zones (axalcuicmei.ddns.net, x.blogspot.com).
  let label = labels[labels.length - suffixLen - 1]!;
  for (let i = labels.length - suffixLen - 2; i >= 0; i--) if (labels[i]!.length > label.length) label = labels[i]!;
  return { name, label, tld, subdomains: labels.length - suffixLen - 1 };
}

/**
 * Statistics derived from the training split (popular-domain n-grams from the benign names, DGA
 * n-grams from the DGA names, TLD odds from both): log10 probabilities of padded bigrams/trigrams, and log-odds DGA vs benign per TLD.
 */
export interface LexiconTables {
  bigram: Record<string, number>;
  trigram: Record<string, number>;
  /** Log10 probability given to an n-gram never seen in the popular-domain list. */
  bigramFloor: number;
  trigramFloor: number;
  /** Same n-grams over the DGA training names: the likelihood ratio separates wordlist DGAs. */
  dgaBigram: Record<string, number>;
  dgaTrigram: Record<string, number>;
  dgaBigramFloor: number;
  dgaTrigramFloor: number;
  /** log10 P(g | dga) / P(g | benign) of padded 4-grams seen at least 3 times in either class. */
  quadLlr: Record<string, number>;
  /** ln(P(tld | dga) / P(tld | benign)), Laplace-smoothed; unseen TLDs use `tldDefault`. */
  tldLogOdds: Record<string, number>;
  tldDefault: number;
}

export const FEATURE_NAMES = [
  'len',
  'entropy',
  'vowel_ratio',
  'consonant_ratio',
  'digit_ratio',
  'hyphen_ratio',
  'unique_ratio',
  'max_consonant_run',
  'max_digit_run',
  'max_vowel_run',
  'digit_letter_switches',
  'bigram_ll',
  'trigram_ll',
  'trigram_unseen_ratio',
  'dga_bigram_ll',
  'dga_trigram_ll',
  'bigram_llr',
  'trigram_llr',
  'hyphens',
  'cv_switch_ratio',
  'quad_llr_mean',
  'quad_llr_min',
  'quad_llr_max',
  'tld_len',
  'tld_log_odds',
  'subdomains',
  'name_len',
] as const;

const VOWEL = /[aeiouy]/;
const CONSONANT = /[bcdfghjklmnpqrstvwxz]/;
const DIGIT = /[0-9]/;

/** Feature vector of `raw` in FEATURE_NAMES order. */
export function domainFeatures(raw: string, t: LexiconTables): number[] {
  const d = splitDomain(raw);
  const s = d.label;
  const n = s.length || 1;
  let vowels = 0;
  let consonants = 0;
  let digits = 0;
  let hyphens = 0;
  let switches = 0;
  let prevKind = 0;
  let cvSwitches = 0;
  let prevCv = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let kind = 0;
    if (c >= 48 && c <= 57) {
      digits++;
      kind = 1;
    } else if (c >= 97 && c <= 122) {
      kind = 2;
      const cv = c === 97 || c === 101 || c === 105 || c === 111 || c === 117 || c === 121 ? 1 : 2;
      if (cv === 1) vowels++;
      else consonants++;
      if (prevCv !== 0 && cv !== prevCv) cvSwitches++;
      prevCv = cv;
    } else if (c === 45) hyphens++;
    if (kind !== 0 && prevKind !== 0 && kind !== prevKind) switches++;
    if (kind !== 0) prevKind = kind;
  }
  let unseen = 0;
  let grams = 0;
  const padded = `^${s}$`;
  for (let i = 0; i + 3 <= padded.length; i++) {
    grams++;
    if (t.trigram[padded.slice(i, i + 3)] === undefined) unseen++;
  }
  let qSum = 0;
  let qMin = 0;
  let qMax = 0;
  let qn = 0;
  for (let i = 0; i + 4 <= padded.length; i++) {
    const v = t.quadLlr[padded.slice(i, i + 4)] ?? 0;
    qSum += v;
    qn++;
    if (v < qMin) qMin = v;
    if (v > qMax) qMax = v;
  }
  const bll = ngramLogLikelihood(s, t.bigram, 2, t.bigramFloor);
  const tll = ngramLogLikelihood(s, t.trigram, 3, t.trigramFloor);
  const dbll = ngramLogLikelihood(s, t.dgaBigram, 2, t.dgaBigramFloor);
  const dtll = ngramLogLikelihood(s, t.dgaTrigram, 3, t.dgaTrigramFloor);
  return [
    s.length,
    entropy(s),
    vowels / n,
    consonants / n,
    digits / n,
    hyphens / n,
    new Set(s).size / n,
    longestRun(s, CONSONANT),
    longestRun(s, DIGIT),
    longestRun(s, VOWEL),
    switches,
    bll,
    tll,
    grams === 0 ? 1 : unseen / grams,
    dbll,
    dtll,
    dbll - bll,
    dtll - tll,
    hyphens,
    cvSwitches / n,
    qn === 0 ? 0 : qSum / qn,
    qMin,
    qMax,
    d.tld.length,
    t.tldLogOdds[d.tld] ?? t.tldDefault,
    d.subdomains,
    d.name.length,
  ];
}

/**
 * Build the tables from a training split. `benign` feeds the n-gram model (popular domains);
 * TLD odds use both classes.
 */
export function buildLexicon(benign: readonly string[], dga: readonly string[], round = 3): LexiconTables {
  const count = (grams: Map<string, number>, s: string, k: number) => {
    const p = `^${s}$`;
    for (let i = 0; i + k <= p.length; i++) {
      const g = p.slice(i, i + k);
      grams.set(g, (grams.get(g) ?? 0) + 1);
    }
  };
  const bi = new Map<string, number>();
  const tri = new Map<string, number>();
  for (const b of benign) {
    const l = splitDomain(b).label;
    count(bi, l, 2);
    count(tri, l, 3);
  }
  const dbi = new Map<string, number>();
  const dtri = new Map<string, number>();
  for (const x of dga) {
    const l = splitDomain(x).label;
    count(dbi, l, 2);
    count(dtri, l, 3);
  }
  const q = (x: number, digits = round) => Number(x.toFixed(digits));
  const toLog = (m: Map<string, number>) => {
    let total = 0;
    for (const v of m.values()) total += v;
    const out: Record<string, number> = {};
    // Drop singletons: they carry little signal and would make the shipped table large.
    for (const [g, v] of [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1))) if (v >= 2) out[g] = q(Math.log10(v / total));
    return { out, floor: q(Math.log10(0.5 / total)) };
  };
  const b2 = toLog(bi);
  const b3 = toLog(tri);
  const d2 = toLog(dbi);
  const d3 = toLog(dtri);
  const qb = new Map<string, number>();
  const qd = new Map<string, number>();
  for (const b of benign) count(qb, splitDomain(b).label, 4);
  for (const x of dga) count(qd, splitDomain(x).label, 4);
  let tb4 = 0;
  let td4 = 0;
  for (const v of qb.values()) tb4 += v;
  for (const v of qd.values()) td4 += v;
  const quadLlr: Record<string, number> = {};
  for (const g of [...new Set([...qb.keys(), ...qd.keys()])].sort()) {
    const cb = qb.get(g) ?? 0;
    const cd = qd.get(g) ?? 0;
    if (cb >= 3 || cd >= 3) quadLlr[g] = q(Math.log10((cd + 0.5) / td4 / ((cb + 0.5) / tb4)), 2);
  }
  const tb = new Map<string, number>();
  const td = new Map<string, number>();
  for (const b of benign) {
    const t = splitDomain(b).tld;
    tb.set(t, (tb.get(t) ?? 0) + 1);
  }
  for (const x of dga) {
    const t = splitDomain(x).tld;
    td.set(t, (td.get(t) ?? 0) + 1);
  }
  const tlds = new Set([...tb.keys(), ...td.keys()]);
  const V = tlds.size + 1;
  const nb = benign.length;
  const nd = dga.length;
  const odds = (cd: number, cb: number) => Math.log((cd + 1) / (nd + V) / ((cb + 1) / (nb + V)));
  const tldLogOdds: Record<string, number> = {};
  // Only TLDs seen a few times get their own entry; rare ones fall back to the default (≈ 0).
  for (const t of [...tlds].sort()) {
    const cd = td.get(t) ?? 0;
    const cb = tb.get(t) ?? 0;
    if (cd + cb >= 5) tldLogOdds[t] = q(odds(cd, cb));
  }
  return {
    bigram: b2.out, trigram: b3.out, bigramFloor: b2.floor, trigramFloor: b3.floor,
    dgaBigram: d2.out, dgaTrigram: d3.out, dgaBigramFloor: d2.floor, dgaTrigramFloor: d3.floor, quadLlr,
    tldLogOdds, tldDefault: q(odds(0, 0)),
  };
}
