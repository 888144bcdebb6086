// Lexical DGA features of a domain name, shared by the live analyzer (bundled into its isolate)
// and by training (host side): one definition, so the model sees at scoring time exactly what it
// was trained on. Pure functions, no Node APIs.
//
// A name is reduced to its registrable label ("www.kq0qw6o2siwq.org" → "kq0qw6o2siwq", TLD "org";
// "hqxf.com.jm" → "hqxf", TLD "com.jm"): DGAs generate that label, while subdomains of popular
// sites (cdn-12.images.example.com) would look random for reasons that do not matter here.

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

// Label boundaries of the name being split (scratch: scoring is single-threaded).
let starts = new Int32Array(64);
let ends = new Int32Array(64);

export function splitDomain(raw: string): DomainParts {
  let name = raw.trim().toLowerCase();
  let e = name.length;
  while (e > 0 && name.charCodeAt(e - 1) === 46) e--;
  if (e < name.length) name = name.slice(0, e);
  // The non-empty labels between dots, as [start, end) pairs.
  let k = 0;
  for (let i = 0; i <= name.length; ) {
    let j = name.indexOf('.', i);
    if (j < 0) j = name.length;
    if (j > i) {
      if (k === starts.length) {
        starts = Int32Array.from({ length: 2 * k }, (_, x) => starts[x] ?? 0);
        ends = Int32Array.from({ length: 2 * k }, (_, x) => ends[x] ?? 0);
      }
      starts[k] = i;
      ends[k++] = j;
    }
    i = j + 1;
  }
  const lab = (x: number): string => name.slice(starts[x]!, ends[x]!);
  if (k <= 1) return { name, label: k === 1 ? lab(0) : '', tld: '', subdomains: 0 };
  let suffixLen = 1;
  if (k >= 3 && ends[k - 1]! - starts[k - 1]! === 2 && SLD_SUFFIX.has(lab(k - 2))) suffixLen = 2;
  // The suffix's labels joined by single dots (empty labels between them are dropped).
  const tld = suffixLen === 1 ? lab(k - 1) : starts[k - 1] === ends[k - 2]! + 1 ? name.slice(starts[k - 2]!, ends[k - 1]!) : `${lab(k - 2)}.${lab(k - 1)}`;
  // The longest label in front of the suffix: the registrable one for most names, and the
  // generated one under dynamic-DNS/hosting zones (axalcuicmei.ddns.net, x.blogspot.com).
  let best = k - suffixLen - 1;
  for (let i = k - suffixLen - 2; i >= 0; i--) if (ends[i]! - starts[i]! > ends[best]! - starts[best]!) best = i;
  return { name, label: lab(best), tld, subdomains: k - suffixLen - 1 };
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

// ------------------------------------------------------------------------------------------------
// Scoring runs once per distinct name (tens of thousands per second on a busy resolver), so the
// n-gram tables are compiled once into typed arrays indexed by character codes: no substring and
// no dictionary lookup per n-gram. The arithmetic is the reference definition's, in the same
// order (sums from the first n-gram to the last, entropy over characters in order of first
// appearance), so the features are bit for bit those the model was trained on
// (test/analyzers/dga-features.test.ts holds them equal to a plain string-based implementation).

/** The tables of a LexiconTables, indexed by character code (holds no reference to the JSON tables). */
export interface CompiledLexicon {
  readonly bigramFloor: number;
  readonly trigramFloor: number;
  readonly dgaBigramFloor: number;
  readonly dgaTrigramFloor: number;
  readonly tldLogOdds: Map<string, number>;
  readonly tldDefault: number;
  /** Symbol of each UTF-16 code unit: 1..K-1 for characters some table key holds, 0 for any other. */
  readonly sym: Uint8Array;
  readonly K: number;
  /** log10 probabilities by (a*K + b), (a*K + b)*K + c; NaN where the table has no entry. */
  readonly bi: Float64Array;
  readonly tri: Float64Array;
  readonly dbi: Float64Array;
  readonly dtri: Float64Array;
  /** quadLlr by ((a*K + b)*K + c)*K + d. */
  readonly quad: Map<number, number>;
}

// ------------------------------------------------------------------------------------------------
// How model.json stores the lexicon: each n-gram table as one string of its n-grams back to back
// plus an array of their values, instead of an object with ~70k keys. Parsing that object took
// ~90 ms and compiling it ~120 ms of every start (more in a cold sandbox); the packed form parses
// in ~20 ms and compiles in a few. Older model files with object tables still load.

export const PACKED_LEXICON_FORMAT = 'damselfly.lexicon.packed.v1';

/** One n-gram table: `grams` holds values.length n-grams of n characters each, in order. */
export interface PackedTable {
  n: number;
  grams: string;
  values: number[];
}

const NGRAM_TABLES = ['bigram', 'trigram', 'dgaBigram', 'dgaTrigram', 'quadLlr'] as const;
type NgramTable = (typeof NGRAM_TABLES)[number];

export type PackedLexicon = Omit<LexiconTables, NgramTable> & { format: typeof PACKED_LEXICON_FORMAT } & Record<NgramTable, PackedTable>;

function packTable(tab: Record<string, number>, n: number): PackedTable {
  const grams: string[] = [];
  const values: number[] = [];
  for (const [g, v] of Object.entries(tab)) {
    if (g.length !== n) throw new Error(`DGA lexicon: n-gram '${g}' in a table of ${n}-grams`);
    grams.push(g);
    values.push(v);
  }
  return { n, grams: grams.join(''), values };
}

export function packLexicon(t: LexiconTables): PackedLexicon {
  return {
    format: PACKED_LEXICON_FORMAT,
    bigram: packTable(t.bigram, 2),
    trigram: packTable(t.trigram, 3),
    bigramFloor: t.bigramFloor,
    trigramFloor: t.trigramFloor,
    dgaBigram: packTable(t.dgaBigram, 2),
    dgaTrigram: packTable(t.dgaTrigram, 3),
    dgaBigramFloor: t.dgaBigramFloor,
    dgaTrigramFloor: t.dgaTrigramFloor,
    quadLlr: packTable(t.quadLlr, 4),
    tldLogOdds: t.tldLogOdds,
    tldDefault: t.tldDefault,
  };
}

function isPacked(t: LexiconTables | PackedLexicon): t is PackedLexicon {
  return (t as PackedLexicon).format === PACKED_LEXICON_FORMAT;
}

export function unpackLexicon(t: LexiconTables | PackedLexicon): LexiconTables {
  if (!isPacked(t)) return t;
  const unpack = (p: PackedTable): Record<string, number> => {
    const o: Record<string, number> = {};
    for (let i = 0; i < p.values.length; i++) o[p.grams.slice(i * p.n, (i + 1) * p.n)] = p.values[i]!;
    return o;
  };
  const { format: _format, ...rest } = t;
  return { ...rest, bigram: unpack(t.bigram), trigram: unpack(t.trigram), dgaBigram: unpack(t.dgaBigram), dgaTrigram: unpack(t.dgaTrigram), quadLlr: unpack(t.quadLlr) };
}

/** A table as (n, grams, values) whichever form it is stored in. */
function tableOf(t: LexiconTables | PackedLexicon, name: NgramTable, n: number): PackedTable {
  if (isPacked(t)) {
    const p = t[name];
    if (p.n !== n || p.grams.length !== p.values.length * n) throw new Error(`DGA lexicon: table ${name} is not ${p.values.length} ${n}-grams`);
    return p;
  }
  return packTable(t[name], n);
}

const compiled = new WeakMap<LexiconTables | PackedLexicon, CompiledLexicon>();

export function compileLexicon(t: LexiconTables | PackedLexicon): CompiledLexicon {
  const hit = compiled.get(t);
  if (hit) return hit;
  const bigram = tableOf(t, 'bigram', 2);
  const trigram = tableOf(t, 'trigram', 3);
  const dgaBigram = tableOf(t, 'dgaBigram', 2);
  const dgaTrigram = tableOf(t, 'dgaTrigram', 3);
  const quadLlr = tableOf(t, 'quadLlr', 4);
  const sym = new Uint8Array(65536);
  let K = 1;
  for (const tab of [bigram, trigram, dgaBigram, dgaTrigram, quadLlr]) {
    const g = tab.grams;
    for (let i = 0; i < g.length; i++) {
      const c = g.charCodeAt(i);
      if (sym[c] === 0) {
        if (K === 255) throw new Error('DGA lexicon: more than 254 distinct characters in its n-grams');
        sym[c] = K++;
      }
    }
  }
  const index = (g: string, at: number, n: number): number => {
    let x = 0;
    for (let i = at; i < at + n; i++) x = x * K + sym[g.charCodeAt(i)]!;
    return x;
  };
  const fill = (tab: PackedTable): Float64Array => {
    const a = new Float64Array(K ** tab.n).fill(NaN);
    for (let i = 0; i < tab.values.length; i++) a[index(tab.grams, i * tab.n, tab.n)] = tab.values[i]!;
    return a;
  };
  const quad = new Map<number, number>();
  for (let i = 0; i < quadLlr.values.length; i++) quad.set(index(quadLlr.grams, i * 4, 4), quadLlr.values[i]!);
  const c: CompiledLexicon = {
    bigramFloor: t.bigramFloor, trigramFloor: t.trigramFloor, dgaBigramFloor: t.dgaBigramFloor, dgaTrigramFloor: t.dgaTrigramFloor,
    tldLogOdds: new Map(Object.entries(t.tldLogOdds)), tldDefault: t.tldDefault,
    sym, K, bi: fill(bigram), tri: fill(trigram), dbi: fill(dgaBigram), dtri: fill(dgaTrigram), quad,
  };
  compiled.set(t, c);
  return c;
}

/** TLD strings a plain object answers through its prototype (tldLogOdds[tld] is then not a number). */
const PROTO_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

const CH_CARET = 94; // '^'
const CH_DOLLAR = 36; // '$'
// Character classes of the reference definition: /[aeiouy]/, /[bcdfghjklmnpqrstvwxz]/, /[0-9]/.
const CLASS = new Uint8Array(128);
for (const ch of 'aeiouy') CLASS[ch.charCodeAt(0)] = 1;
for (const ch of 'bcdfghjklmnpqrstvwxz') CLASS[ch.charCodeAt(0)] = 2;
for (const ch of '0123456789') CLASS[ch.charCodeAt(0)] = 3;

// Scratch space of one call (scoring is single-threaded): padded symbols, per-character counts.
let padded = new Int32Array(256);
const counts = new Int32Array(65536);
let order = new Uint16Array(256);

/** Feature vector of `raw` in FEATURE_NAMES order, into `out` (a new array when absent). */
export function domainFeatures(raw: string, t: LexiconTables | PackedLexicon, out: number[] = new Array<number>(FEATURE_NAMES.length)): number[] {
  return partsFeatures(splitDomain(raw), compileLexicon(t), out);
}

/** domainFeatures of a name already split, with the compiled tables. */
export function partsFeatures(d: DomainParts, c: CompiledLexicon, out: number[] = new Array<number>(FEATURE_NAMES.length)): number[] {
  const t = c;
  const s = d.label;
  const L = s.length;
  const n = L || 1;
  let vowels = 0;
  let consonants = 0;
  let digits = 0;
  let hyphens = 0;
  let switches = 0;
  let prevKind = 0;
  let cvSwitches = 0;
  let prevCv = 0;
  let runC = 0, bestC = 0, runD = 0, bestD = 0, runV = 0, bestV = 0;
  if (L + 2 > padded.length) {
    padded = new Int32Array(2 * (L + 2));
    order = new Uint16Array(2 * (L + 2));
  }
  const sym = c.sym;
  padded[0] = sym[CH_CARET]!;
  padded[L + 1] = sym[CH_DOLLAR]!;
  let distinct = 0;
  let surrogates = false;
  for (let i = 0; i < L; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 0xd800 && ch <= 0xdfff) surrogates = true;
    padded[i + 1] = sym[ch]!;
    if (counts[ch]++ === 0) order[distinct++] = ch;
    const cls = ch < 128 ? CLASS[ch]! : 0;
    if (cls === 2) { runC++; if (runC > bestC) bestC = runC; } else runC = 0;
    if (cls === 3) { runD++; if (runD > bestD) bestD = runD; } else runD = 0;
    if (cls === 1) { runV++; if (runV > bestV) bestV = runV; } else runV = 0;
    let kind = 0;
    if (ch >= 48 && ch <= 57) {
      digits++;
      kind = 1;
    } else if (ch >= 97 && ch <= 122) {
      kind = 2;
      const cv = ch === 97 || ch === 101 || ch === 105 || ch === 111 || ch === 117 || ch === 121 ? 1 : 2;
      if (cv === 1) vowels++;
      else consonants++;
      if (prevCv !== 0 && cv !== prevCv) cvSwitches++;
      prevCv = cv;
    } else if (ch === 45) hyphens++;
    if (kind !== 0 && prevKind !== 0 && kind !== prevKind) switches++;
    if (kind !== 0) prevKind = kind;
  }
  // Shannon entropy over characters in order of first appearance (as a Map would iterate them).
  let h = 0;
  for (let k = 0; k < distinct; k++) {
    const ch = order[k]!;
    const p = counts[ch]! / L;
    h -= p * Math.log2(p);
    counts[ch] = 0;
  }
  const P = L + 2;
  const K = c.K;
  // Padded bigrams: P - 1 of them (at least one).
  let bsum = 0;
  let dbsum = 0;
  for (let i = 0; i + 2 <= P; i++) {
    const x = padded[i]! * K + padded[i + 1]!;
    const v = c.bi[x]!;
    bsum += v === v ? v : t.bigramFloor;
    const dv = c.dbi[x]!;
    dbsum += dv === dv ? dv : t.dgaBigramFloor;
  }
  let unseen = 0;
  let grams = 0;
  let tsum = 0;
  let dtsum = 0;
  for (let i = 0; i + 3 <= P; i++) {
    grams++;
    const x = (padded[i]! * K + padded[i + 1]!) * K + padded[i + 2]!;
    const v = c.tri[x]!;
    if (v !== v) unseen++;
    tsum += v === v ? v : t.trigramFloor;
    const dv = c.dtri[x]!;
    dtsum += dv === dv ? dv : t.dgaTrigramFloor;
  }
  let qSum = 0;
  let qMin = 0;
  let qMax = 0;
  let qn = 0;
  for (let i = 0; i + 4 <= P; i++) {
    const v = c.quad.get(((padded[i]! * K + padded[i + 1]!) * K + padded[i + 2]!) * K + padded[i + 3]!) ?? 0;
    qSum += v;
    qn++;
    if (v < qMin) qMin = v;
    if (v > qMax) qMax = v;
  }
  const bll = bsum / (P - 1);
  const dbll = dbsum / (P - 1);
  const tll = grams === 0 ? t.trigramFloor : tsum / grams;
  const dtll = grams === 0 ? t.dgaTrigramFloor : dtsum / grams;
  out[0] = L;
  out[1] = L === 0 ? 0 : h;
  out[2] = vowels / n;
  out[3] = consonants / n;
  out[4] = digits / n;
  out[5] = hyphens / n;
  // Distinct characters as the reference counts them (a Set of code points, not code units).
  out[6] = (surrogates ? new Set(s).size : distinct) / n;
  out[7] = bestC;
  out[8] = bestD;
  out[9] = bestV;
  out[10] = switches;
  out[11] = bll;
  out[12] = tll;
  out[13] = grams === 0 ? 1 : unseen / grams;
  out[14] = dbll;
  out[15] = dtll;
  out[16] = dbll - bll;
  out[17] = dtll - tll;
  out[18] = hyphens;
  out[19] = cvSwitches / n;
  out[20] = qn === 0 ? 0 : qSum / qn;
  out[21] = qMin;
  out[22] = qMax;
  out[23] = d.tld.length;
  // The reference read a plain object: a TLD named like an Object.prototype member finds it.
  out[24] = c.tldLogOdds.get(d.tld) ?? (PROTO_NAMES.has(d.tld) ? NaN : c.tldDefault);
  out[25] = d.subdomains;
  out[26] = d.name.length;
  return out;
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
