// The DGA features as scored (compiled n-gram tables, flat forest) are bit for bit the features of
// the plain string-based definition the model was trained with: checked on the held-out names
// (when ../shared/data is there) and on edge cases (empty labels, digits, hyphens, characters no
// n-gram table holds, '^' and '$' inside a label, long labels, non-ASCII).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_DIR } from '../../analyzers/runtime/index.js';
import { domainFeatures, splitDomain, unpackLexicon, type LexiconTables } from '../../analyzers/builtin/dga/features.js';
import { dataAvailable, loadSplit } from '../../analyzers/builtin/dga/dataset.js';
import type { DgaModel } from '../../analyzers/builtin/dga/model.js';
import { Forest } from '../../analyzers/sdk/forest.js';
import { entropy, longestRun, ngramLogLikelihood } from '../../analyzers/sdk/text.js';

const model = JSON.parse(readFileSync(path.join(BUILTIN_DIR, 'dga', 'model.json'), 'utf8')) as DgaModel;
/** The tables as objects (what the reference definition reads). */
const tables = unpackLexicon(model.lexicon);

// ---- the reference definition (what training computed before the tables were compiled) ----
const VOWEL = /[aeiouy]/;
const CONSONANT = /[bcdfghjklmnpqrstvwxz]/;
const DIGIT = /[0-9]/;

function reference(raw: string, t: LexiconTables): number[] {
  const d = splitDomain(raw);
  const s = d.label;
  const n = s.length || 1;
  let vowels = 0, consonants = 0, digits = 0, hyphens = 0, switches = 0, prevKind = 0, cvSwitches = 0, prevCv = 0;
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
  let unseen = 0, grams = 0;
  const padded = `^${s}$`;
  for (let i = 0; i + 3 <= padded.length; i++) {
    grams++;
    if (t.trigram[padded.slice(i, i + 3)] === undefined) unseen++;
  }
  let qSum = 0, qMin = 0, qMax = 0, qn = 0;
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
    s.length, entropy(s), vowels / n, consonants / n, digits / n, hyphens / n, new Set(s).size / n,
    longestRun(s, CONSONANT), longestRun(s, DIGIT), longestRun(s, VOWEL), switches, bll, tll,
    grams === 0 ? 1 : unseen / grams, dbll, dtll, dbll - bll, dtll - tll, hyphens, cvSwitches / n,
    qn === 0 ? 0 : qSum / qn, qMin, qMax, d.tld.length, t.tldLogOdds[d.tld] ?? t.tldDefault, d.subdomains, d.name.length,
  ];
}

/** Reference forest: the per-tree JSON arrays walked as they are. */
function referencePredict(x: number[]): number {
  let sum = 0;
  for (const tr of model.trees) {
    let i = 0;
    while (tr.col[i]! >= 0) i = x[tr.col[i]!]! < tr.thr[i]! ? tr.left[i]! : tr.right[i]!;
    sum += tr.p[i]!;
  }
  return sum / model.trees.length;
}

const EDGE = [
  '', '.', 'com', 'a.com', 'x.y.z.example.co.uk', '0-0-0.net', '----.org', 'abc^def$ghi.com', '^$.com', 'ÄÖÜ.de', 'xn--bcher-kva.example',
  'mañana.es', '日本.jp', 'a'.repeat(300) + '.com', 'q1w2e3r4t5y6u7i8o9p0.info', 'aaaaaaaaaaaaaaaa.biz', 'www.google.com',
  'kq0qw6o2siwq.org', 'hwevqwlocbvmrjdor.net', '1.0.0.10.in-addr.arpa', 'UPPER.CASE.COM.', 'tab\there.com', 'emoji😀.com',
];

function check(names: string[]): void {
  const f = new Forest(model);
  const out: number[] = [];
  for (const name of names) {
    const want = reference(name, tables);
    const got = domainFeatures(name, model.lexicon, out);
    for (let k = 0; k < want.length; k++) {
      if (!Object.is(got[k], want[k])) assert.fail(`${JSON.stringify(name)} feature ${k}: ${got[k]} != ${want[k]}`);
    }
    // Object tables (older model files) compile to the same features as the packed ones.
    const fromObjects = domainFeatures(name, tables);
    for (let k = 0; k < want.length; k++) {
      if (!Object.is(fromObjects[k], want[k])) assert.fail(`${JSON.stringify(name)} feature ${k} from object tables: ${fromObjects[k]} != ${want[k]}`);
    }
    assert.ok(Object.is(f.predict(got), referencePredict(want)), `${JSON.stringify(name)}: score differs`);
  }
}

test('compiled features and flat forest equal the reference on edge cases and random names', () => {
  const rnd = (k: number): string => {
    let x = k * 2654435761;
    let s = '';
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-._^$Ü';
    for (let i = 0; i < 3 + (k % 25); i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      s += alphabet[x % alphabet.length];
    }
    return s;
  };
  check([...EDGE, ...Array.from({ length: 5000 }, (_, k) => rnd(k))]);
});

test('compiled features equal the reference on the held-out DGA and popular names', { timeout: 120_000 }, (t) => {
  if (!dataAvailable()) {
    t.skip('skipped: ../shared/data/ndpi/dga is absent (third-party test data lives in ../shared/data)');
    return;
  }
  check(loadSplit().test.map((s) => s.name));
});
