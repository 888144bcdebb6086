// Benchmark: packets/s with nDPI on, on the generated 1M-packet mixed capture (sensor/src/synth,
// cached in .cache/bench), side by side and alternating: our native core with --ndpi
// (damselfly-replay, the engine the N-API addon runs), the whole product (`damselfly run --ndpi`
// into Parquet: without analyzers — the job ndpiReader does, flows with their labels — and with
// the built-in analyzers), `ndpiReader -i` (Debian libndpi-bin 4.2, same library) and `argus -r`.
// Usage: node dist/bench/ndpi-vs-ndpireader.js [--packets 1000000] [--runs 3] [--pcap FILE] [--no-run]
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { timeCommand, median, machineLine, arg, benchCapture, benchDir, ROOT, type RunFigure } from './harness.js';

async function main(): Promise<void> {
  const packets = Number(arg('packets', '1000000'));
  const runs = Number(arg('runs', '3'));
  const work = benchDir();
  const pcap = await benchCapture(packets);
  const replay = join(ROOT, 'sensor', 'native', 'build', 'damselfly-replay');
  const cli = join(ROOT, 'dist', 'bin', 'damselfly.js');
  const pq = join(work, 'parquet-ndpi');
  const argusOut = join(work, 'out-ndpi.argus');
  const tools: { name: string; cmd: () => string[]; figs: RunFigure[] }[] = [
    { name: 'damselfly core --ndpi', cmd: () => [replay, '--ndpi', pcap], figs: [] },
    ...(process.argv.includes('--no-run')
      ? []
      : [
          { name: 'damselfly run --ndpi', cmd: () => { rmSync(pq, { recursive: true, force: true }); return [cli, 'run', '-i', pcap, '--ndpi', '--parquet-dir', pq, '--no-builtin-analyzers', '-q']; }, figs: [] as RunFigure[] },
          { name: '  + analyzers', cmd: () => { rmSync(pq, { recursive: true, force: true }); return [cli, 'run', '-i', pcap, '--ndpi', '--parquet-dir', pq, '-q']; }, figs: [] as RunFigure[] },
        ]),
    { name: 'ndpiReader -i', cmd: () => ['ndpiReader', '-q', '-i', pcap], figs: [] },
    { name: 'argus -r', cmd: () => { rmSync(argusOut, { force: true }); return ['argus', '-r', pcap, '-w', argusOut]; }, figs: [] },
  ];
  for (let i = 0; i < runs + 1; i++) {
    for (const t of tools) {
      const f = timeCommand(t.cmd());
      if (i > 0) t.figs.push(f);  // first round: warm-up (page cache)
    }
  }
  const pps = (f: RunFigure): number => packets / f.wallS;
  process.stdout.write(`machine: ${machineLine()}\ninput: ${pcap} (${packets} packets), ${runs} runs each after a warm-up, alternating\n`);
  for (const t of tools) {
    const fs = t.figs;
    process.stdout.write(`${t.name.padEnd(24)} wall ${median(fs.map((f) => f.wallS)).toFixed(2)} s  ${(median(fs.map(pps)) / 1e6).toFixed(2)} Mpkt/s  ` +
      `cpu ${median(fs.map((f) => f.userS + f.sysS)).toFixed(2)} s  peak RSS ${(median(fs.map((f) => f.maxRssKb)) / 1024).toFixed(0)} MiB\n`);
  }
  const core = tools[0]!.figs;
  for (const t of tools.slice(1)) {
    const r = core.map((c, i) => t.figs[i]!.wallS / c.wallS);
    process.stdout.write(`ratio ${t.name} wall / damselfly core wall (median of rounds): ${median(r).toFixed(2)}x\n`);
  }
  for (const run of tools.filter((t) => t.name.startsWith('damselfly run') || t.name.includes('analyzers'))) {
    for (const t of tools.filter((x) => x.name === 'ndpiReader -i' || x.name === 'argus -r')) {
      const r = run.figs.map((c, i) => t.figs[i]!.wallS / c.wallS);
      process.stdout.write(`ratio ${t.name} wall / ${run.name.trim()} wall (median of rounds): ${median(r).toFixed(2)}x\n`);
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
