// Host-side helpers for training and evaluating the DGA model: the labelled lists, the fixed-seed
// train/test split (the test recomputes it to evaluate the shipped model on the held-out part),
// and the metrics. Not bundled into the analyzer (it reads files).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../runtime/compile.js';

/** nDPI's labelled lists (LGPL-3.0), beside the project: ../shared/data/ndpi/dga. */
export const DEFAULT_DGA_DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'ndpi', 'dga');
export const DGA_FILE = 'test_dga.csv';
export const BENIGN_FILE = 'test_non_dga.csv';
export const SPLIT_SEED = 20240521;
export const TEST_RATIO = 0.3;

export interface Sample {
  name: string;
  label: 0 | 1;
}

export interface Split {
  train: Sample[];
  test: Sample[];
  /** Names dropped because both lists contain them. */
  conflicts: number;
}

export function dataAvailable(dir = DEFAULT_DGA_DATA): boolean {
  return existsSync(path.join(dir, DGA_FILE)) && existsSync(path.join(dir, BENIGN_FILE));
}

function readList(file: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const s = line.split(',')[0]!.trim().toLowerCase().replace(/\.+$/, '');
    if (s && !s.startsWith('#')) out.push(s);
  }
  return out;
}

/** mulberry32: small, fast, reproducible across Node versions. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * Deduplicate each list (sorted, so file order does not matter), drop names present in both,
 * then shuffle each class with the fixed seed and hold out TEST_RATIO of each (stratified).
 */
export function loadSplit(dir = DEFAULT_DGA_DATA, seed = SPLIT_SEED, testRatio = TEST_RATIO): Split {
  const dga = new Set(readList(path.join(dir, DGA_FILE)));
  const benign = new Set(readList(path.join(dir, BENIGN_FILE)));
  let conflicts = 0;
  for (const d of [...dga]) {
    if (benign.has(d)) {
      dga.delete(d);
      benign.delete(d);
      conflicts++;
    }
  }
  const rand = rng(seed);
  const train: Sample[] = [];
  const test: Sample[] = [];
  for (const [set, label] of [[benign, 0], [dga, 1]] as const) {
    const names = shuffle([...set].sort(), rand);
    const nTest = Math.round(names.length * testRatio);
    names.forEach((name, i) => (i < nTest ? test : train).push({ name, label }));
  }
  return { train: shuffle(train, rand), test, conflicts };
}

/** ROC AUC (Mann–Whitney, ties counted half). */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSumPos = 0;
  let nPos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[idx[k]!] === 1) {
      rankSumPos += avgRank;
      nPos++;
    }
    i = j + 1;
  }
  const nNeg = labels.length - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function precisionRecall(scores: readonly number[], labels: readonly number[], threshold: number): { precision: number; recall: number; fpr: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i]! >= threshold;
    if (labels[i] === 1) p ? tp++ : fn++;
    else p ? fp++ : tn++;
  }
  return { precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: tp / Math.max(1, tp + fn), fpr: fp / Math.max(1, fp + tn) };
}

/** Detection rate (recall) at the lowest threshold whose false-positive rate is <= `fpr`. */
export function detectionAtFpr(scores: readonly number[], labels: readonly number[], fpr: number): { threshold: number; detection: number; fpr: number } {
  const neg = scores.filter((_, i) => labels[i] !== 1).sort((a, b) => b - a);
  const allowed = Math.floor(neg.length * fpr);
  // Threshold strictly above the (allowed+1)-th highest negative score.
  const bound = neg[allowed];
  const threshold = bound === undefined ? -Infinity : nextUp(bound);
  const pr = precisionRecall(scores, labels, threshold);
  return { threshold, detection: pr.recall, fpr: pr.fpr };
}

function nextUp(x: number): number {
  return x + Math.max(1e-12, Math.abs(x) * 1e-12);
}
