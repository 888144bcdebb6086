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

/**
 * A forest ready to predict: every tree's nodes in one set of typed arrays (children as absolute
 * node numbers), so a prediction walks flat memory — the same comparisons, in the same order, as
 * the per-tree JSON arrays describe.
 */
export class Forest {
  private readonly roots: Int32Array;
  private readonly col: Int32Array;
  private readonly thr: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly p: Float64Array;

  /** Copies what prediction needs: the model object may be dropped afterwards. */
  constructor(model: CompactForest) {
    if (model?.format !== 'damselfly.forest.v1' || !Array.isArray(model.trees)) {
      throw new Error('not a damselfly.forest.v1 model');
    }
    const total = model.trees.reduce((n, t) => n + t.col.length, 0);
    this.roots = new Int32Array(model.trees.length);
    this.col = new Int32Array(total);
    this.thr = new Float64Array(total);
    this.left = new Int32Array(total);
    this.right = new Int32Array(total);
    this.p = new Float64Array(total);
    let at = 0;
    model.trees.forEach((tr, t) => {
      this.roots[t] = at;
      for (let i = 0; i < tr.col.length; i++) {
        this.col[at + i] = tr.col[i]!;
        this.thr[at + i] = tr.thr[i]!;
        this.left[at + i] = at + tr.left[i]!;
        this.right[at + i] = at + tr.right[i]!;
        this.p[at + i] = tr.p[i]!;
      }
      at += tr.col.length;
    });
  }

  /** Probability of the positive class: the mean leaf probability over trees. */
  predict(x: ArrayLike<number>): number {
    const { roots, col, thr, left, right, p } = this;
    let sum = 0;
    for (let t = 0; t < roots.length; t++) {
      let i = roots[t]!;
      for (let c = col[i]!; c >= 0; c = col[i]!) i = x[c]! < thr[i]! ? left[i]! : right[i]!;
      sum += p[i]!;
    }
    return roots.length === 0 ? 0 : sum / roots.length;
  }
}
