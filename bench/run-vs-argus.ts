// Benchmark: `damselfly run` (capture → flows → Parquet) vs `argus -r` on the same generated
// capture, side by side in one run, alternating, with the ratio and peak RSS; with and without the
// default built-in analyzers (DGA, threat-feed: then the sensor also makes L7 events and flow
// start/update records). Two captures of 1M packets: the office mix (~43k flows) and the
// `many-flows` mix (~93k flows, ~10 packets per flow).
// Usage: node dist/bench/run-vs-argus.js [--packets 1000000] [--runs 3] [--mix default|many-flows|both] [--pcap FILE]
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { timeCommand, median, machineLine, arg, benchCapture, benchDir, ROOT, type RunFigure } from './harness.js';

type Mix = 'default' | 'many-flows';

async function one(n: number, runs: number, mix: Mix): Promise<void> {
  const work = benchDir();
  const pcap = await benchCapture(n, mix);
  const ours: RunFigure[] = [];
  const full: RunFigure[] = [];
  const argus: RunFigure[] = [];
  const cli = join(ROOT, 'dist', 'bin', 'damselfly.js');
  const node = [cli]; // the executable, as users run it (its shebang passes --no-node-snapshot)
  for (let i = 0; i < runs + 1; i++) {
    const pq = join(work, 'parquet');
    rmSync(pq, { recursive: true, force: true });
    // The flow meter's job, like Argus: capture → flows → Parquet (no analyzers, no L7 datasets).
    const a = timeCommand([...node, 'run', '-i', pcap, '--parquet-dir', pq, '--no-builtin-analyzers', '--parquet-datasets', 'flows', '-q']);
    rmSync(pq, { recursive: true, force: true });
    // The default pipeline: also DNS/TLS/HTTP events (and their lake datasets), start/update records, DGA + threat-feed.
    const c = timeCommand([...node, 'run', '-i', pcap, '--parquet-dir', pq, '-q']);
    const argusOut = join(work, 'out.argus');
    rmSync(argusOut, { force: true });
    const b = timeCommand(['argus', '-r', pcap, '-w', argusOut]);
    if (i === 0) continue; // warm-up (page cache)
    ours.push(a);
    full.push(c);
    argus.push(b);
  }
  const pps = (f: RunFigure): number => n / f.wallS;
  const ratios = ours.map((o, i) => argus[i]!.wallS / o.wallS);
  const fullRatios = full.map((o, i) => argus[i]!.wallS / o.wallS);
  const line = (name: string, fs: RunFigure[]): string =>
    `${name.padEnd(16)} wall ${median(fs.map((f) => f.wallS)).toFixed(2)} s  ${(median(fs.map(pps)) / 1e6).toFixed(2)} Mpkt/s  cpu ${median(fs.map((f) => f.userS + f.sysS)).toFixed(2)} s  peak RSS ${(median(fs.map((f) => f.maxRssKb)) / 1024).toFixed(0)} MiB`;
  process.stdout.write(`\ninput: ${pcap} (${n} packets, ${mix} mix), ${runs} runs each after a warm-up, alternating\n`);
  process.stdout.write(line('damselfly run', ours) + '\n' + line('  + analyzers', full) + '\n' + line('argus -r', argus) + '\n');
  process.stdout.write(`ratio without analyzers (argus wall / damselfly wall, median of pairs): ${median(ratios).toFixed(2)}x  [min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}]\n`);
  process.stdout.write(`ratio with the built-in analyzers: ${median(fullRatios).toFixed(2)}x  [min ${Math.min(...fullRatios).toFixed(2)}, max ${Math.max(...fullRatios).toFixed(2)}]\n`);
}

async function main(): Promise<void> {
  const n = Number(arg('packets', '1000000'));
  const runs = Number(arg('runs', '3'));
  const mix = arg('mix', 'both');
  process.stdout.write(`machine: ${machineLine()}\n`);
  for (const m of (mix === 'both' ? ['default', 'many-flows'] : [mix]) as Mix[]) await one(n, runs, m);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
