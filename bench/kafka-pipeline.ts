// Benchmark: the scale-out pipeline over a real broker, end to end and as users run it:
// `damselfly sensor --kafka` → `damselfly sink parquet --kafka --until-end`, two processes, on the
// generated 1M-packet capture. Figure: flow events (records on <prefix>.flows) per second from the
// sensor's start to the sink's exit (every row written and the sink ended by itself), alternating
// with the Arrow and the JSON framing; `kafka-producer-perf-test` (the Java tool, same broker, same
// record count and size as our Arrow messages) for scale.
// Usage: node dist/bench/kafka-pipeline.js [--runs 3] [--mix default|many-flows] [--packets 1000000]
//        [--formats arrow,json] [--brokers h:p]
// A larger --packets amortises the fixed start-up (~1 s: Node, connecting, making the topics) and
// shows the sustained rate.
import { execFileSync, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arg, benchCapture, benchDir, machineLine, median, ROOT } from './harness.js';
import { kafkaClasspath, withBroker } from './kafka-broker.js';

const CLI = join(ROOT, 'dist', 'bin', 'damselfly.js');

function run(args: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--no-node-snapshot', CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stderr, ms: performance.now() - t0 }));
  });
}

function statValue(stderr: string, re: RegExp): number {
  const m = re.exec(stderr);
  return m ? Number(m[1]) : NaN;
}

async function once(bootstrap: string, pcap: string, format: 'arrow' | 'json', i: number): Promise<{ events: number; ms: number; rows: number }> {
  const prefix = `bench-${process.pid}-${format}-${i}`;
  const out = join(benchDir(), `kafka-parquet-${format}`);
  rmSync(out, { recursive: true, force: true });
  const cfg = join(benchDir(), `kafka-${format}.yaml`);
  writeFileSync(cfg, `kafka:\n  format: ${format}\n`);
  const k = ['--kafka', bootstrap, '--topic-prefix', prefix, '-c', cfg];
  const sink = run(['sink', 'parquet', ...k, '--parquet-dir', out, '--until-end', '--stats']);
  // Let the sink join before the sensor starts (it follows producers that start after it).
  await new Promise((r) => setTimeout(r, 3000));
  const t0 = performance.now();
  const sensor = await run(['sensor', '-i', pcap, ...k]);
  if (sensor.code !== 0) throw new Error(`sensor failed: ${sensor.stderr.slice(-2000)}`);
  const s = await sink;
  if (s.code !== 0) throw new Error(`sink failed: ${s.stderr.slice(-2000)}`);
  const ms = performance.now() - t0;
  const rows = statValue(s.stderr, /parquet_rows=(\d+)/);
  return { events: 0, ms, rows };
}

/** Flow events (start, update, end records) the sensor makes of the capture: what it publishes. */
async function flowEvents(pcap: string): Promise<number> {
  const out = join(benchDir(), 'count-parquet');
  rmSync(out, { recursive: true, force: true });
  const r = await run(['run', '-i', pcap, '--parquet-dir', out, '--stats', '-q']);
  const n = statValue(r.stderr, /"damselfly\.flows":\{"published":(\d+)/);
  if (!(n > 0)) throw new Error(`cannot count the flow events: ${r.stderr.slice(-1000)}`);
  return n;
}

async function main(): Promise<void> {
  const runs = Number(arg('runs', '3'));
  const mix = arg('mix', 'default') as 'default' | 'many-flows';
  const packets = Number(arg('packets', '1000000'));
  const formats = arg('formats', 'arrow,json')!.split(',') as ('arrow' | 'json')[];
  const pcap = await benchCapture(packets, mix);
  const flows = await flowEvents(pcap);
  const broker = withBroker();
  try {
    process.stdout.write(`machine: ${machineLine()}\ninput: ${pcap} (${mix} mix, ${flows} flow events), ${runs} runs per framing, alternating\n`);
    const figures: Record<string, { events: number; ms: number; rows: number }[]> = Object.fromEntries(formats.map((f) => [f, []]));
    for (let i = 0; i < runs; i++) {
      for (const f of formats) {
        const x = { ...(await once(broker.bootstrap, pcap, f, i)), events: flows };
        figures[f]!.push(x);
        process.stdout.write(`  run ${i + 1} ${f}: ${x.ms.toFixed(0)} ms, ${x.rows} Parquet rows\n`);
      }
    }
    for (const [f, xs] of Object.entries(figures)) {
      const rate = xs.map((x) => x.events / (x.ms / 1000));
      process.stdout.write(`${f.padEnd(6)} flow events ${xs[0]!.events}, Parquet rows ${xs[0]!.rows}: end to end ${median(xs.map((x) => x.ms)).toFixed(0)} ms = ${Math.round(median(rate)).toLocaleString('en')} flow events/s (min ${Math.round(Math.min(...rate)).toLocaleString('en')}, max ${Math.round(Math.max(...rate)).toLocaleString('en')})\n`);
    }
    // Scale: the broker's own producer tool on the same broker, records the size of our Arrow
    // messages (a batch of ~2k flow events per partition message).
    const topic = `perf-${process.pid}`;
    const java = ['-Xmx768m', '-cp', kafkaClasspath()];
    try {
      execFileSync('java', [...java, 'org.apache.kafka.tools.TopicCommand', '--bootstrap-server', broker.bootstrap, '--create', '--topic', topic, '--partitions', '6', '--replication-factor', '1'], { stdio: 'ignore' });
      const perf = execFileSync('java', [...java, 'org.apache.kafka.tools.ProducerPerformance', '--topic', topic, '--num-records', '2000', '--record-size', '600000', '--throughput', '-1', '--producer-props', `bootstrap.servers=${broker.bootstrap}`, 'acks=all', 'compression.type=lz4', 'max.request.size=2000000'], { encoding: 'utf8' });
      process.stdout.write(`kafka-producer-perf-test (2000 records x 600 KB, acks=all, lz4): ${perf.trim().split('\n').pop()}\n`);
    } catch (e) {
      process.stdout.write(`kafka-producer-perf-test failed: ${(e as Error).message.split('\n')[0]}\n`);
    }
  } finally {
    broker.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
