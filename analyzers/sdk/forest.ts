// Random-forest prediction from a compact JSON model. Training uses ml-random-forest on the host
// (analyzers/builtin/dga/train.ts); `compactForest` turns its toJSON() into flat per-tree arrays so
// a sandboxed analyzer predicts without bundling ml-matrix, and fast (no recursion, no objects).

export interface CompactTree {
  /** Feature index (into the full feature vector) per node; -1 marks a leaf. */
  col: number[];
  thr: number[];
  left: number[];
  right: number[];
  /** Probability of the positive class (label 1) at leaves. */
  p: number[];
}

export interface CompactForest {
  format: 'damselfly.forest.v1';
  features: string[];
  trees: CompactTree[];
  /** Free-form provenance (data source, split, metrics). */
  meta?: Record<string, unknown>;
}

interface CartNode {
  splitColumn?: number;
  splitValue?: number;
  left?: CartNode;
  right?: CartNode;
  distribution?: unknown;
}

function leafProb(dist: unknown): number {
  // ml-cart leaves hold a 1×k Matrix (plain nested array after JSON round trip).
  let row: unknown = dist;
  if (row && typeof row === 'object' && 'to2DArray' in (row as object)) row = (row as { to2DArray(): number[][] }).to2DArray();
  if (row && typeof row === 'object' && 'data' in (row as object) && !Array.isArray(row)) row = (row as { data: number[][] }).data;
  if (Array.isArray(row) && Array.isArray(row[0])) row = row[0];
  if (Array.isArray(row)) {
    const a = row as number[];
    const sum = a.reduce((s, x) => s + (Number(x) || 0), 0);
    return a.length > 1 && sum > 0 ? Number(a[1]) / sum : 0;
  }
  return 0;
}

/** Convert ml-random-forest `toJSON()` (classifier, labels 0/1) to a CompactForest. */
export function compactForest(json: unknown, features: string[], meta?: Record<string, unknown>): CompactForest {
  const base = ((json as { baseModel?: unknown }).baseModel ?? json) as {
    estimators: { root: CartNode }[];
    indexes: number[][];
  };
  const trees: CompactTree[] = base.estimators.map((est, t) => {
    const idx = base.indexes[t]!;
    const tree: CompactTree = { col: [], thr: [], left: [], right: [], p: [] };
    const walk = (n: CartNode): number => {
      const i = tree.col.length;
      tree.col.push(-1);
      tree.thr.push(0);
      tree.left.push(-1);
      tree.right.push(-1);
      tree.p.push(0);
      if (n.left && n.right && n.splitColumn !== undefined) {
        tree.col[i] = idx[n.splitColumn]!;
        tree.thr[i] = n.splitValue!;
        tree.left[i] = walk(n.left);
        tree.right[i] = walk(n.right);
      } else tree.p[i] = leafProb(n.distribution);
      return i;
    };
    walk(est.root);
    return tree;
  });
  return meta ? { format: 'damselfly.forest.v1', features, trees, meta } : { format: 'damselfly.forest.v1', features, trees };
}

export class Forest {
  constructor(readonly model: CompactForest) {
    if (model?.format !== 'damselfly.forest.v1' || !Array.isArray(model.trees)) {
      throw new Error('not a damselfly.forest.v1 model');
    }
  }

  /** Probability of the positive class: the mean leaf probability over trees. */
  predict(x: ArrayLike<number>): number {
    const trees = this.model.trees;
    let sum = 0;
    for (let t = 0; t < trees.length; t++) {
      const tr = trees[t]!;
      let i = 0;
      while (tr.col[i]! >= 0) i = x[tr.col[i]!]! < tr.thr[i]! ? tr.left[i]! : tr.right[i]!;
      sum += tr.p[i]!;
    }
    return trees.length === 0 ? 0 : sum / trees.length;
  }
}
