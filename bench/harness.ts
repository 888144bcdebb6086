// Side-by-side timing for benchmarks: runs commands alternately (A B A B ...) under
// /usr/bin/time so each figure is the OS's own accounting of a whole process; reports medians
// and the pairwise ratio.
import { PACKAGE_ROOT } from '../streams/package-root.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { generateCapture } from '../synth/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunFigure {
  wallS: number;
  userS: number;
  sysS: number;
  maxRssKb: number;
  status: number;
}

export function timeCommand(cmd: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunFigure {
  const out = join(tmpdir(), `bench-time-${process.pid}-${Date.now()}.txt`);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M %x', '-o', out, ...cmd], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    maxBuffer: 1 << 26,
  });
  const fields = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(out, { force: true });
  const [wallS, userS, sysS, maxRssKb, status] = fields as [number, number, number, number, number];
  if (r.status !== 0 && status !== 0) process.stderr.write(`warning: ${cmd.join(' ')} exited ${status}: ${r.stderr.slice(-500)}\n`);
  return { wallS, userS, sysS, maxRssKb, status };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function machineLine(): string {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown cpu';
  const cores = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? 0;
  const memKb = Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s*(\d+)/)?.[1] ?? 0);
  return `${cpu}, ${cores} cores, ${(memKb / 1048576).toFixed(0)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

/** The repository root (dist/bench/*.js → ../..). */
export const ROOT = PACKAGE_ROOT;

/** `--name value` from the command line, or `def`. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

/** The benchmarks' scratch folder (.cache/bench, git-ignored). */
export function benchDir(): string {
  const work = join(ROOT, '.cache', 'bench');
  mkdirSync(work, { recursive: true });
  return work;
}

/**
 * `--pcap FILE` if given, else the generated capture of `packets` packets (seed 42) with the
 * session mix `mix` (synth SESSION_MIXES), made once and cached in .cache/bench so every
 * benchmark compares on the same bytes.
 */
export async function benchCapture(packets: number, mix: 'default' | 'many-flows' = 'default'): Promise<string> {
  const given = arg('pcap', '');
  if (given) return given;
  const pcap = join(benchDir(), mix === 'default' ? `synth-${packets}.pcap` : `synth-${packets}-${mix}.pcap`);
  if (!existsSync(pcap)) {
    process.stderr.write(`generating ${pcap} ...\n`);
    await generateCapture({ out: pcap, packets, seed: 42, truth: false, mix });
  }
  return pcap;
}
