// Expands `-i` into a sorted list of capture files: a plain path, a glob (*, ?, [..], **), or `-`
// (standard input). Capture files may be gzip- or zstd-compressed (the sensor reads their magic).
import { Buffer } from 'node:buffer';
import { readdirSync, statSync, accessSync, constants, openSync, readSync, closeSync } from 'node:fs';
import { join, isAbsolute, sep } from 'node:path';
import { UserError } from '../../streams/errors.js';

const GLOB_CHARS = /[*?[]/;

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let body = seg.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function listDir(dir: string): { name: string; isDir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((d) => ({
      name: d.name,
      isDir: d.isDirectory() || (d.isSymbolicLink() && safeIsDir(join(dir, d.name))),
    }));
  } catch {
    return [];
  }
}

function safeIsDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function walk(base: string, segs: string[], out: string[]): void {
  if (segs.length === 0) {
    if (!safeIsDir(base)) out.push(base);
    return;
  }
  const [seg, ...rest] = segs as [string, ...string[]];
  if (seg === '**') {
    walk(base, rest, out); // zero directories
    for (const d of listDir(base)) if (d.isDir && !d.name.startsWith('.')) walk(join(base, d.name), segs, out);
    return;
  }
  if (!GLOB_CHARS.test(seg)) {
    walk(join(base, seg), rest, out);
    return;
  }
  const re = segmentRegex(seg);
  for (const d of listDir(base)) {
    if (d.name.startsWith('.') && !seg.startsWith('.')) continue;
    if (!re.test(d.name)) continue;
    if (rest.length > 0 && !d.isDir) continue;
    walk(join(base, d.name), rest, out);
  }
}

/** First bytes of what the sensor reads: pcap (both byte orders, µs and ns), pcapng, gzip, zstd. */
const CAPTURE_MAGICS: readonly (readonly number[])[] = [
  [0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d],
  [0x0a, 0x0d, 0x0d, 0x0a], [0x1f, 0x8b], [0x28, 0xb5, 0x2f, 0xfd],
];

/** Throws a UserError unless `file` starts like a capture (or a gzip/zstd-compressed one). */
export function checkCaptureFile(file: string): void {
  const head = Buffer.alloc(4);
  let n = 0;
  const fd = openSync(file, 'r');
  try {
    n = readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (n === 0) throw new UserError(`input ${file}: empty file, not a capture`);
  if (!CAPTURE_MAGICS.some((m) => m.length <= n && m.every((b, i) => head[i] === b))) {
    throw new UserError(`input ${file}: not a capture file (expected pcap or pcapng, optionally gzip- or zstd-compressed; starts with ${head.subarray(0, n).toString('hex')})`);
  }
}

/**
 * Resolve a source argument to capture files; user errors for missing files, empty globs and a
 * single file that is not a capture (checked before anything starts). `-` is standard input.
 */
export function expandInput(source: string): string[] {
  if (source === '-') return ['-'];
  if (!GLOB_CHARS.test(source)) {
    let st;
    try {
      st = statSync(source);
    } catch {
      throw new UserError(`input ${source}: no such file`);
    }
    if (st.isDirectory()) throw new UserError(`input ${source}: is a directory (use a glob such as '${join(source, '*.pcap')}')`);
    try {
      accessSync(source, constants.R_OK);
    } catch {
      throw new UserError(`input ${source}: permission denied`);
    }
    if (st.isFile()) checkCaptureFile(source);
    return [source];
  }
  const files = expandGlob(source);
  if (files.length === 0) throw new UserError(`input ${source}: the glob matches no files`);
  return files;
}

/** The files a glob matches now, sorted (none: an empty list). A path without glob characters is itself. */
export function expandGlob(source: string): string[] {
  if (!GLOB_CHARS.test(source)) return safeIsFile(source) ? [source] : [];
  const abs = isAbsolute(source);
  const segs = source.split(sep).filter((s, i) => s !== '' || (i === 0 && abs));
  const base = abs ? sep : '.';
  const out: string[] = [];
  walk(base, abs ? segs.slice(1) : segs, out);
  return [...new Set(out.map((p) => (abs ? p : p.replace(/^\.\//, ''))))].sort();
}

function safeIsFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
