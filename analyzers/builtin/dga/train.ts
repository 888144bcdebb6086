// `npm run train:dga`: train the DGA random forest from nDPI's labelled lists and write
// analyzers/builtin/dga/model.json (lexicon tables + compact forest + provenance), then print the
// held-out metrics. Options: --data DIR (default ../shared/data/ndpi/dga), --out FILE,
// --trees N, --max-samples N, --max-depth N, --min-leaf N, --seed N.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RandomForestClassifier } from 'ml-random-forest';
import { compactForest, Forest } from '../../sdk/forest.js';
import { REPO_ROOT } from '../../runtime/compile.js';
import { buildLexicon, domainFeatures, packLexicon, FEATURE_NAMES } from './features.js';
import { dataAvailable, DEFAULT_DGA_DATA, detectionAtFpr, loadSplit, precisionRecall, rocAuc, SPLIT_SEED, TEST_RATIO } from './dataset.js';
import type { DgaModel } from './model.js';
import { installFastSplit } from './fast-split.js';

export const DEFAULT_MODEL_PATH = path.join(REPO_ROOT, 'analyzers', 'builtin', 'dga', 'model.json');

interface Opts {
  data: string;
  out: string;
  trees: number;
  maxSamples: number;
  maxDepth: number;
  minLeaf: number;
  seed: number;
}

function parseArgs(argv: string[]): Opts {
  const o: Opts = { data: DEFAULT_DGA_DATA, out: DEFAULT_MODEL_PATH, trees: 100, maxSamples: 8000, maxDepth: 16, minLeaf: 5, seed: 7 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    const num = () => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${a} needs a positive integer`);
      i++;
      return n;
    };
    if (a === '--data' && v) (o.data = path.resolve(v), i++);
    else if (a === '--out' && v) (o.out = path.resolve(v), i++);
    else if (a === '--trees') o.trees = num();
    else if (a === '--max-samples') o.maxSamples = num();
    else if (a === '--max-depth') o.maxDepth = num();
    else if (a === '--seed') o.seed = num();
    else if (a === '--min-leaf') o.minLeaf = num();
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const r4 = (x: number) => Number(x.toFixed(4));

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (!dataAvailable(o.data)) {
    process.stderr.write(`train:dga: labelled lists not found in ${o.data} (expected test_dga.csv and test_non_dga.csv from nDPI)\n`);
    return 2;
  }
  installFastSplit();
  const t0 = performance.now();
  const split = loadSplit(o.data);
  const trainNames = split.train;
  const lex = buildLexicon(trainNames.filter((s) => s.label === 0).map((s) => s.name), trainNames.filter((s) => s.label === 1).map((s) => s.name));
  // Out-of-fold features for the training rows: each row's n-gram/TLD statistics come from the
  // other folds, so the forest learns how much to trust them on names the tables never saw (as at
  // scoring time), not on names they memorised.
  const FOLDS = 5;
  const X: number[][] = new Array(trainNames.length);
  for (let k = 0; k < FOLDS; k++) {
    const rest = trainNames.filter((_, i) => i % FOLDS !== k);
    const lk = buildLexicon(rest.filter((s) => s.label === 0).map((s) => s.name), rest.filter((s) => s.label === 1).map((s) => s.name));
    for (let i = k; i < trainNames.length; i += FOLDS) X[i] = domainFeatures(trainNames[i]!.name, lk);
  }
  const y = trainNames.map((s) => s.label);
  // maxSamples and noOOB are missing from the package's typings (the code has them).
  const rfOptions: Record<string, unknown> = {
    seed: o.seed,
    nEstimators: o.trees,
    maxFeatures: 0.6,
    replacement: false,
    useSampleBagging: true,
    // Both are required with ml-random-forest on tens of thousands of rows: OOB bookkeeping is
    // quadratic (and crashes), and ml-cart's split search is O(n^2) per feature per node.
    noOOB: true,
    maxSamples: o.maxSamples,
    treeOptions: { maxDepth: o.maxDepth, minNumSamples: o.minLeaf },
  };
  const rf = new RandomForestClassifier(rfOptions as ConstructorParameters<typeof RandomForestClassifier>[0]);
  rf.train(X, y);
  const tTrain = performance.now();

  const forest = compactForest(rf.toJSON(), [...FEATURE_NAMES]);
  for (const t of forest.trees) {
    t.thr = t.thr.map((v) => Number(v.toPrecision(6)));
    t.p = t.p.map((v) => Number(v.toFixed(4)));
  }
  const f = new Forest(forest);
  const scores = split.test.map((s) => f.predict(domainFeatures(s.name, lex)));
  const labels = split.test.map((s) => s.label);
  const auc = rocAuc(scores, labels);
  const at1 = detectionAtFpr(scores, labels, 0.01);
  const at01 = detectionAtFpr(scores, labels, 0.001);
  // Alert threshold: the 0.1% FPR operating point on held-out data (DNS is high volume).
  const threshold = Number(Math.min(0.99, Math.max(0.5, at01.threshold)).toFixed(4));
  const pr = precisionRecall(scores, labels, threshold);

  const model: DgaModel = {
    ...forest,
    lexicon: packLexicon(lex),
    threshold,
    meta: {
      trained: new Date().toISOString().slice(0, 10),
      data: 'nDPI test suite lists tests/dga/test_dga.csv (DGA) and test_non_dga.csv (popular domains), commit 3b1286ab; LGPL-3.0. Not copied: only derived statistics (n-gram and TLD tables, forest) ship here.',
      split: `dedup, names in both lists dropped (${split.conflicts}); per class shuffle with mulberry32 seed ${SPLIT_SEED}; ${TEST_RATIO * 100}% held out; n-grams from the benign training part only`,
      train: { rows: trainNames.length, trees: o.trees, maxSamples: o.maxSamples, maxDepth: o.maxDepth, minLeaf: o.minLeaf, seed: o.seed, folds: FOLDS },
      test: { rows: split.test.length, auc: r4(auc), threshold, precision: r4(pr.precision), recall: r4(pr.recall), fpr: r4(pr.fpr), detection_at_1pct_fpr: r4(at1.detection), detection_at_0_1pct_fpr: r4(at01.detection) },
    },
  };
  writeFileSync(o.out, JSON.stringify(model) + '\n');
  const kb = Math.round(JSON.stringify(model).length / 1024);
  const nodes = forest.trees.reduce((s, t) => s + t.col.length, 0);
  process.stdout.write(
    [
      `train:dga: ${trainNames.length} training names, ${split.test.length} held out (seed ${SPLIT_SEED}, ${TEST_RATIO * 100}% test, ${split.conflicts} conflicting names dropped)`,
      `train:dga: ${o.trees} trees, maxSamples ${o.maxSamples}, maxDepth ${o.maxDepth}: ${nodes} nodes, trained in ${((tTrain - t0) / 1000).toFixed(1)} s`,
      `ROC AUC                 ${auc.toFixed(4)}`,
      `threshold               ${threshold}  precision ${pr.precision.toFixed(4)}  recall ${pr.recall.toFixed(4)}  (FPR ${(pr.fpr * 100).toFixed(3)}%)`,
      `detection at 1% FPR     ${(at1.detection * 100).toFixed(2)}%  (threshold ${at1.threshold.toFixed(4)})`,
      `detection at 0.1% FPR   ${(at01.detection * 100).toFixed(2)}%  (threshold ${at01.threshold.toFixed(4)})`,
      `wrote ${path.relative(process.cwd(), o.out) || o.out} (${kb} KiB)`,
      '',
    ].join('\n'),
  );
  return 0;
}

main().then(
  (c) => (process.exitCode = c),
  (e: unknown) => {
    process.stderr.write(`train:dga: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
