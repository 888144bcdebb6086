// Stateless string helpers shared by analyzers (inside the sandbox) and by host-side training code.
// Pure functions, no Node APIs: this file is bundled into isolates.

/** Shannon entropy of `s` in bits per character (0 for the empty string). */
export function entropy(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const c = s[i]!;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const c of counts.values()) {
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

/** All character n-grams of `s` (overlapping), optionally padded with '^' and '$'. */
export function ngrams(s: string, n: number, pad = false): string[] {
  const t = pad ? `^${s}$` : s;
  const out: string[] = [];
  for (let i = 0; i + n <= t.length; i++) out.push(t.slice(i, i + n));
  return out;
}

/** Mean log10-probability of the padded n-grams of `s` under `model` (unseen: `floor`). */
export function ngramLogLikelihood(s: string, model: Readonly<Record<string, number>>, n: number, floor: number): number {
  const grams = ngrams(s, n, true);
  if (grams.length === 0) return floor;
  let sum = 0;
  for (const g of grams) sum += model[g] ?? floor;
  return sum / grams.length;
}

/** Longest run of consecutive characters matching `re` (e.g. /[0-9]/). */
export function longestRun(s: string, re: RegExp): number {
  let best = 0;
  let cur = 0;
  for (let i = 0; i < s.length; i++) {
    if (re.test(s[i]!)) {
      cur++;
      if (cur > best) best = cur;
    } else cur = 0;
  }
  return best;
}

/** 32-bit FNV-1a of a string (UTF-16 code units), with a seed. */
export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
