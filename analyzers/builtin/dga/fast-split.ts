// Training speed-up for ml-random-forest's trees (ml-cart). ml-cart's TreeNode.bestSplit tries
// every label-change point of every feature and re-partitions + re-scores the whole node for each
// (O(n^2) per feature per node: minutes for a few thousand rows). For two-class Gini trees this
// swaps in the usual sorted sweep with running class counts (O(n log n) per feature): the same
// criterion (Gini gain, `x < threshold` goes left, threshold = midpoint of adjacent values, first
// best wins), so the trees are the ones ml-cart would grow, only faster. Host-side only.
import { RandomForestClassifier } from 'ml-random-forest';

interface MatrixLike {
  rows: number;
  getRow(i: number): number[];
}

interface TreeNodeProto {
  kind: string;
  gainFunction: string;
  bestSplit(XTranspose: MatrixLike, y: number[]): { maxGain: number; maxColumn?: number; maxValue?: number; numberSamples?: number };
}

let installed = false;

function gini(pos: number, n: number): number {
  if (n === 0) return 0;
  const p = pos / n;
  return 1 - p * p - (1 - p) * (1 - p);
}

/** Install the fast split search on ml-cart's TreeNode (idempotent). */
export function installFastSplit(): void {
  if (installed) return;
  // TreeNode is not exported: reach its prototype through a tree grown on four rows.
  const probe = new RandomForestClassifier({ nEstimators: 1, seed: 1, maxFeatures: 1.0, useSampleBagging: false, noOOB: true } as ConstructorParameters<typeof RandomForestClassifier>[0]);
  probe.train([[0], [1], [2], [3]], [0, 0, 1, 1]);
  const root = (probe as unknown as { estimators: { root: object }[] }).estimators[0]!.root;
  const proto = Object.getPrototypeOf(root) as TreeNodeProto;
  const original = proto.bestSplit;
  proto.bestSplit = function (this: TreeNodeProto, XT: MatrixLike, y: number[]) {
    if (this.kind !== 'classifier' || this.gainFunction !== 'gini' || y.some((v) => v !== 0 && v !== 1)) return original.call(this, XT, y);
    const n = y.length;
    let totalPos = 0;
    for (let i = 0; i < n; i++) totalPos += y[i]!;
    const parent = gini(totalPos, n);
    let bestGain = -Infinity;
    let maxColumn: number | undefined;
    let maxValue: number | undefined;
    let numberSamples: number | undefined;
    const order = new Uint32Array(n);
    for (let c = 0; c < XT.rows; c++) {
      const x = XT.getRow(c);
      for (let i = 0; i < n; i++) order[i] = i;
      order.sort((a, b) => x[a]! - x[b]!);
      let leftN = 0;
      let leftPos = 0;
      for (let k = 0; k < n - 1; k++) {
        const i = order[k]!;
        leftN++;
        leftPos += y[i]!;
        const v0 = x[i]!;
        const v1 = x[order[k + 1]!]!;
        if (v0 === v1) continue; // only between distinct values: `x < midpoint` is this partition
        const rightN = n - leftN;
        const gain = parent - (gini(leftPos, leftN) * leftN + gini(totalPos - leftPos, rightN) * rightN) / n;
        if (gain > bestGain) {
          bestGain = gain;
          maxColumn = c;
          maxValue = (v0 + v1) / 2;
          numberSamples = n;
        }
      }
    }
    return { maxGain: bestGain, maxColumn, maxValue, numberSamples };
  };
  installed = true;
}
