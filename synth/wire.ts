// Low-level output: a buffered classic-pcap writer, Internet checksum helpers and a random byte
// pool with prefix sums (so high-entropy payload checksums cost O(1) per segment).
import * as fs from 'node:fs';
import type { Rng } from './rng.js';

/** Fold an unfolded (non-negative) 16-bit word sum into 16 bits, one's-complement style. */
export function fold(s: number): number {
  while (s > 0xffff) s = (s % 65536) + Math.floor(s / 65536);
  return s;
}

/** Byte-swap a (folded) sum: the contribution of bytes that start at an odd position. */
export function swap16(s: number): number {
  const x = fold(s);
  return ((x & 0xff) << 8) | (x >>> 8);
}

/** Unfolded sum of 16-bit big-endian words of buf[start, end); buf[start] is a high byte. */
export function sumBytes(buf: Uint8Array, start: number, end: number): number {
  let s = 0;
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if (i === last) s += buf[i]! << 8;
  return s;
}

/** Final checksum value from an unfolded sum. */
export function finish(s: number): number {
  return ~fold(s) & 0xffff;
}

const POOL_SIZE = 1 << 21; // 2 MiB

/** A pool of random bytes plus prefix sums of its 16-bit words. */
export class RandomPool {
  readonly buf: Buffer;
  private readonly prefix: Float64Array;
  constructor(rng: Rng) {
    this.buf = Buffer.allocUnsafe(POOL_SIZE);
    rng.fill(this.buf);
    this.prefix = new Float64Array(POOL_SIZE / 2 + 1);
    let s = 0;
    for (let k = 0; k < POOL_SIZE / 2; k++) {
      s += (this.buf[2 * k]! << 8) | this.buf[2 * k + 1]!;
      this.prefix[k + 1] = s;
    }
  }

  /**
   * Copy n random bytes into dst at off, choosing the source offset from `r` (any 32-bit number).
   * Returns the unfolded word sum of the bytes as if dst[off] were a high byte.
   */
  copy(dst: Uint8Array, off: number, n: number, r: number): number {
    if (n > POOL_SIZE - 2) throw new Error('random piece too large');
    const span = POOL_SIZE - n;
    const o = (r % span) & ~1;
    dst.set(this.buf.subarray(o, o + n), off);
    const words = n >>> 1;
    let s = this.prefix[(o >>> 1) + words]! - this.prefix[o >>> 1]!;
    if (n & 1) s += this.buf[o + n - 1]! << 8;
    return s;
  }
}

const CHUNK = 8 << 20;
/** When less than this is left in the current buffer, the engine pauses so it can be rotated. */
const HEADROOM = 1 << 20;
/** Largest frame we ever build (jumbo-safe). */
export const MAX_FRAME = 16384;

/**
 * Buffered classic pcap writer (magic a1b2c3d4, microsecond timestamps, Ethernet). Full buffers
 * are written asynchronously at explicit file offsets (double/triple buffering), so generation
 * overlaps disk I/O; memory stays bounded at a few buffers.
 */
export class PcapWriter {
  private fd: number;
  private buf: Buffer;
  private pos = 0;
  private filePos = 0;
  private free: Buffer[] = [];
  private pending = new Set<Promise<void>>();
  private error: Error | null = null;
  frames = 0;
  fileBytes = 0;
  firstTs = -1;
  lastTs = -1;
  readonly snaplen: number;
  private cur: { buf: Buffer; off: number } = { buf: Buffer.alloc(0), off: 0 };

  constructor(path: string, snaplen: number) {
    this.snaplen = snaplen;
    this.fd = fs.openSync(path, 'w');
    this.buf = Buffer.allocUnsafe(CHUNK);
    const b = this.buf;
    b.writeUInt32LE(0xa1b2c3d4, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt16LE(4, 6);
    b.writeInt32LE(0, 8);
    b.writeUInt32LE(0, 12);
    b.writeUInt32LE(snaplen, 16);
    b.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    this.pos = 24;
  }

  /** Reserve room for a frame of frameLen bytes; write its bytes at off, then call commit(). */
  begin(frameLen: number): { buf: Buffer; off: number } {
    if (this.pos + 16 + frameLen > CHUNK) this.flushSync();
    this.cur.buf = this.buf;
    this.cur.off = this.pos + 16;
    return this.cur;
  }

  commit(ts: number, frameLen: number): void {
    const incl = frameLen > this.snaplen ? this.snaplen : frameLen;
    const b = this.buf;
    const p = this.pos;
    const sec = Math.floor(ts / 1e6);
    b.writeUInt32LE(sec >>> 0, p);
    b.writeUInt32LE(ts - sec * 1e6, p + 4);
    b.writeUInt32LE(incl, p + 8);
    b.writeUInt32LE(frameLen, p + 12);
    this.pos = p + 16 + incl;
    this.frames++;
    if (this.firstTs < 0) this.firstTs = ts;
    this.lastTs = ts;
  }

  /** True when the current buffer is nearly full and rotate() should be awaited. */
  wantFlush(): boolean {
    return this.pos > CHUNK - HEADROOM;
  }

  /** Hand the current buffer to an asynchronous positional write and continue in a free one. */
  async rotate(): Promise<void> {
    if (this.error) throw this.error;
    const buf = this.buf;
    const len = this.pos;
    const at = this.filePos;
    this.filePos += len;
    this.fileBytes += len;
    const p: Promise<void> = new Promise<void>((resolve) => {
      const go = (off: number) => {
        fs.write(this.fd, buf, off, len - off, at + off, (err, n) => {
          if (err) {
            this.error = err;
            resolve();
          } else if (off + n < len) go(off + n);
          else resolve();
        });
      };
      go(0);
    }).then(() => {
      this.pending.delete(p);
      this.free.push(buf);
    });
    this.pending.add(p);
    while (this.free.length === 0 && this.pending.size >= 2) await Promise.race(this.pending);
    this.buf = this.free.pop() ?? Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
    if (this.error) throw this.error;
  }

  private flushSync(): void {
    let off = 0;
    while (off < this.pos) off += fs.writeSync(this.fd, this.buf, off, this.pos - off, this.filePos + off);
    this.filePos += this.pos;
    this.fileBytes += this.pos;
    this.pos = 0;
  }

  async close(): Promise<void> {
    await Promise.all(this.pending);
    if (this.error) throw this.error;
    this.flushSync();
    fs.closeSync(this.fd);
  }
}
