// Sequential byte sources ("messages") that TCP/UDP senders cut into segments. Each write()
// copies the next n bytes into a frame and returns their unfolded checksum word sum, aligned so
// that dst[off] counts as a high byte.
import { sumBytes, swap16, type RandomPool } from './wire.js';
import type { Rng } from './rng.js';

export interface Src {
  pool: RandomPool;
  rng: Rng;
}

export interface Msg {
  readonly len: number;
  write(dst: Uint8Array, off: number, n: number, src: Src): number;
}

export class BytesMsg implements Msg {
  private pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  get len(): number {
    return this.bytes.length;
  }
  write(dst: Uint8Array, off: number, n: number): number {
    dst.set(this.bytes.subarray(this.pos, this.pos + n), off);
    this.pos += n;
    return sumBytes(dst, off, off + n);
  }
}

/** n high-entropy random bytes. */
export class RandMsg implements Msg {
  constructor(readonly len: number) {}
  write(dst: Uint8Array, off: number, n: number, src: Src): number {
    return src.pool.copy(dst, off, n, src.rng.u32());
  }
}

/** A run of TLS records (5-byte header + random body), e.g. application data. */
export class RecordsMsg implements Msg {
  readonly len: number;
  private rec = 0;
  private within = 0; // offset inside the current record (incl. header)
  private readonly hdr = new Uint8Array(5);
  constructor(
    readonly contentType: number,
    readonly bodies: number[],
    readonly version = 0x0303,
  ) {
    let l = 0;
    for (const b of bodies) l += 5 + b;
    this.len = l;
  }
  write(dst: Uint8Array, off: number, n: number, src: Src): number {
    let acc = 0;
    let rel = 0;
    while (rel < n) {
      const body = this.bodies[this.rec]!;
      const recLen = 5 + body;
      let take: number;
      let s: number;
      if (this.within < 5) {
        const h = this.hdr;
        h[0] = this.contentType;
        h[1] = this.version >>> 8;
        h[2] = this.version & 0xff;
        h[3] = body >>> 8;
        h[4] = body & 0xff;
        take = Math.min(5 - this.within, n - rel);
        dst.set(h.subarray(this.within, this.within + take), off + rel);
        s = sumBytes(dst, off + rel, off + rel + take);
      } else {
        take = Math.min(recLen - this.within, n - rel);
        s = src.pool.copy(dst, off + rel, take, src.rng.u32());
      }
      acc += rel & 1 ? swap16(s) : s;
      rel += take;
      this.within += take;
      if (this.within === recLen) {
        this.rec++;
        this.within = 0;
      }
    }
    return acc;
  }
}

/** Concatenation of messages. */
export class CatMsg implements Msg {
  readonly len: number;
  private idx = 0;
  private used = 0;
  constructor(readonly parts: Msg[]) {
    let l = 0;
    for (const p of parts) l += p.len;
    this.len = l;
  }
  write(dst: Uint8Array, off: number, n: number, src: Src): number {
    let acc = 0;
    let rel = 0;
    while (rel < n) {
      const p = this.parts[this.idx]!;
      const take = Math.min(p.len - this.used, n - rel);
      if (take > 0) {
        const s = p.write(dst, off + rel, take, src);
        acc += rel & 1 ? swap16(s) : s;
        rel += take;
        this.used += take;
      }
      if (this.used === p.len) {
        this.idx++;
        this.used = 0;
      }
    }
    return acc;
  }
}

export function bytes(b: Uint8Array | string): BytesMsg {
  return new BytesMsg(typeof b === 'string' ? Buffer.from(b, 'latin1') : b);
}
