// IPv4/IPv6 prefix table with longest-prefix match. Stored as one hash table per prefix length that
// is in use (a level-compressed form of a binary trie): a lookup probes only the lengths present,
// longest first, so a feed of 1M /32s plus a few hundred CIDRs costs a handful of Map probes per
// address, and memory is one Map entry per prefix instead of up to 128 trie nodes.

/** Parse dotted-quad IPv4 to an unsigned 32-bit number, or undefined. */
export function parseIPv4(s: string): number | undefined {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      digits++;
      if (digits > 3 || part > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0) return undefined;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
      if (dots > 3) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return (n * 256 + part) >>> 0;
}

/** Parse an IPv6 address (with ::, optional embedded IPv4, optional %zone) to 4 words, or undefined. */
export function parseIPv6(s: string): [number, number, number, number] | undefined {
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (s.length < 2 || s.indexOf(':') < 0) return undefined;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (t: string): number[] | undefined => {
    if (t === '') return [];
    const out: number[] = [];
    const parts = t.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.indexOf('.') >= 0) {
        const v4 = parseIPv4(p);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (p.length === 0 || p.length > 4 || !/^[0-9a-fA-F]+$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const g = parseGroups(s);
    if (!g || g.length !== 8) return undefined;
    groups = g;
  }
  return [
    ((groups[0]! << 16) | groups[1]!) >>> 0,
    ((groups[2]! << 16) | groups[3]!) >>> 0,
    ((groups[4]! << 16) | groups[5]!) >>> 0,
    ((groups[6]! << 16) | groups[7]!) >>> 0,
  ];
}

function maskV4(a: number, len: number): number {
  return len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
}

function keyV6(w: readonly number[], len: number): string {
  let k = '';
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, len - i * 32));
    const m = bits === 0 ? 0 : (w[i]! & (0xffffffff << (32 - bits))) >>> 0;
    k += m.toString(16) + ':';
  }
  return k;
}

export interface PrefixMatch<V> {
  prefix: string;
  value: V;
}

export class PrefixTree<V = true> {
  private readonly v4 = new Map<number, Map<number, PrefixMatch<V>>>();
  private readonly v6 = new Map<number, Map<string, PrefixMatch<V>>>();
  private v4Lens: number[] = [];
  private v6Lens: number[] = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** Insert `cidr` ("10.0.0.0/8", "2001:db8::/32" or a bare address). Returns false if malformed. */
  add(cidr: string, value: V): boolean {
    const slash = cidr.indexOf('/');
    const addr = slash >= 0 ? cidr.slice(0, slash) : cidr;
    const lenStr = slash >= 0 ? cidr.slice(slash + 1) : '';
    if (slash >= 0 && !/^\d{1,3}$/.test(lenStr)) return false;
    const a4 = parseIPv4(addr);
    if (a4 !== undefined) {
      const len = slash >= 0 ? Number(lenStr) : 32;
      if (len > 32) return false;
      let t = this.v4.get(len);
      if (!t) {
        t = new Map();
        this.v4.set(len, t);
        this.v4Lens = [...this.v4.keys()].sort((x, y) => y - x);
      }
      const k = maskV4(a4, len);
      if (!t.has(k)) this.n++;
      t.set(k, { prefix: cidr, value });
      return true;
    }
    const a6 = parseIPv6(addr);
    if (a6 === undefined) return false;
    const len = slash >= 0 ? Number(lenStr) : 128;
    if (len > 128) return false;
    let t = this.v6.get(len);
    if (!t) {
      t = new Map();
      this.v6.set(len, t);
      this.v6Lens = [...this.v6.keys()].sort((x, y) => y - x);
    }
    const k = keyV6(a6, len);
    if (!t.has(k)) this.n++;
    t.set(k, { prefix: cidr, value });
    return true;
  }

  /** Longest-prefix match for an address string, or undefined (also for malformed addresses). */
  match(ip: string): PrefixMatch<V> | undefined {
    const a4 = parseIPv4(ip);
    if (a4 !== undefined) {
      for (const len of this.v4Lens) {
        const hit = this.v4.get(len)!.get(maskV4(a4, len));
        if (hit) return hit;
      }
      return undefined;
    }
    if (this.v6Lens.length === 0) return undefined;
    const a6 = parseIPv6(ip);
    if (a6 === undefined) return undefined;
    for (const len of this.v6Lens) {
      const hit = this.v6.get(len)!.get(keyV6(a6, len));
      if (hit) return hit;
    }
    return undefined;
  }

  get(ip: string): V | undefined {
    return this.match(ip)?.value;
  }

  has(ip: string): boolean {
    return this.match(ip) !== undefined;
  }
}
