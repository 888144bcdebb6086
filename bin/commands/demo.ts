// `damselfly demo`: generate a synthetic capture with known ground truth, run the whole pipeline
// on it, and show what landed in Parquet.
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, helpText, FLOW_FLAGS, LOG_FLAGS, type CommandSpec, type FlagSpec } from '../cli.js';
import { PROCESS_CONFIG } from '../../pipeline/config.js';
import { generateCapture } from '../../synth/index.js';
import { UserError } from '../../streams/errors.js';
import { formatCount, runRole } from './common.js';
import { DuckDBInstance } from '@duckdb/node-api';

const DEMO_FLAGS: FlagSpec[] = [
  { long: 'out', arg: 'DIR', help: 'Output directory (default: ./damselfly-demo)' },
  { long: 'packets', arg: 'N', help: 'Packets to generate, 1000 to 10000000 (default: 200000)' },
  { long: 'seed', arg: 'N', help: 'Generator seed (default: 1)' },
  { long: 'observation', arg: 'NAME', path: 'output.observation', help: 'Observation domain name' },
];

export const DEMO: CommandSpec = {
  name: 'demo',
  summary: 'Generate a realistic synthetic capture (DNS, HTTP, TLS, ICMP, IPv6, VLAN, fragments, a port scan,\nDGA lookups, a beacon, a large upload) and run the whole pipeline on it.',
  usage: 'damselfly demo [--out DIR] [--packets N] [--seed N]',
  config: true,
  flags: [...DEMO_FLAGS, ...FLOW_FLAGS, ...LOG_FLAGS],
  examples: ['damselfly demo', 'damselfly demo --out /tmp/demo --packets 1000000'],
};

function intOpt(v: string | number | boolean | undefined, name: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`--${name}: must be an integer from ${min} to ${max} (got '${String(v)}')`);
  return n;
}

export async function demoCommand(argv: string[]): Promise<number> {
  const p = parseArgs(DEMO, PROCESS_CONFIG, argv);
  if (p.help) {
    process.stdout.write(helpText(DEMO, PROCESS_CONFIG));
    return 0;
  }
  const out = String(p.opts.out ?? 'damselfly-demo');
  const packets = intOpt(p.opts.packets, 'packets', 200_000, 1000, 10_000_000);
  const seed = intOpt(p.opts.seed, 'seed', 1, 0, 2 ** 31 - 1);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const pcap = join(out, 'demo.pcap');
  const t0 = Date.now();
  const gen = await generateCapture({ out: pcap, packets, seed });
  const secs = (Date.now() - t0) / 1000;
  process.stdout.write(
    `demo: wrote ${pcap}: ${formatCount(gen.packets)} packets, ${formatCount(gen.flows.length)} flows (ground truth in ${pcap}.truth.json) in ${secs.toFixed(1)}s\n`,
  );
  const cfg = p.config;
  // The demo's threat intelligence: a feed listing the generator's planted bad IPs and C2, as a
  // SOC would subscribe to one, configured for the built-in threat-feed analyzer.
  const intel = join(out, 'analyzers');
  mkdirSync(intel, { recursive: true });
  const iocs = [...gen.plantedHosts.badIps, gen.plantedHosts.beaconC2];
  writeFileSync(join(intel, 'demo-intel.txt'), `# demo threat intelligence (planted by the generator)\n${iocs.join('\n')}\n`);
  writeFileSync(
    join(intel, 'threat-feed.yaml'),
    'files: [demo-intel.txt]\nfeeds:\n  - { source: demo-intel.txt, format: ip, name: demo-intel }\n',
  );
  if (cfg.analyzers!.config_dir === undefined) cfg.analyzers!.config_dir = intel;
  if (cfg.alerts!.file === undefined) cfg.alerts!.file = join(out, 'alerts.jsonl');
  // A demo re-run starts from a clean slate (the sinks append).
  rmSync(join(out, 'flows'), { recursive: true, force: true });
  rmSync(String(cfg.alerts!.file), { force: true });
  cfg.input!.source = pcap;
  cfg.output!.parquet_dir = join(out, 'flows');
  const code = await runRole('demo', p, { role: 'run' });

  // Show what landed: the same queries an analyst would type into DuckDB.
  const glob = join(out, 'flows', '*', 'v*', '**', '*.parquet').replace(/'/g, "''"); // the flow records (dns, tls, http, alerts are datasets beside them)
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const show = async (title: string, sql: string): Promise<void> => {
    const reader = await conn.runAndReadAll(sql);
    const rows = reader.getRowObjectsJson();
    process.stdout.write(`\n${title}\n`);
    for (const r of rows) process.stdout.write('  ' + Object.entries(r).map(([k, v]) => `${k}=${String(v)}`).join(' ') + '\n');
  };
  await show('flows by protocol:', `SELECT proto, count(*) AS flows, sum(spkts+dpkts) AS packets FROM read_parquet('${glob}') GROUP BY proto ORDER BY flows DESC`);
  await show('top talkers by bytes sent:', `SELECT saddr, sum(sbytes) AS bytes, count(*) AS flows FROM read_parquet('${glob}') GROUP BY saddr ORDER BY bytes DESC LIMIT 5`);
  await show('hosts touching the most distinct destination ports (scan-like):', `SELECT saddr, count(DISTINCT dport) AS ports, count(*) AS flows FROM read_parquet('${glob}') WHERE proto='TCP' GROUP BY saddr ORDER BY ports DESC LIMIT 3`);
  await show('flows by end reason:', `SELECT reason, count(*) AS flows FROM read_parquet('${glob}') GROUP BY reason ORDER BY flows DESC`);
  const alertsFile = String(cfg.alerts!.file).replace(/'/g, "''");
  await show('alerts by analyzer and host:', `SELECT analyzer, saddr, count(*) AS alerts, max(score) AS max_score FROM read_json_auto('${alertsFile}') GROUP BY ALL ORDER BY alerts DESC LIMIT 10`).catch(() =>
    process.stdout.write('\nno alerts\n'),
  );
  conn.closeSync();
  process.stdout.write(`\nplanted: scanner=${gen.plantedHosts.scanner} dga=${gen.plantedHosts.dgaHost} beacon=${gen.plantedHosts.beaconHost}->${gen.plantedHosts.beaconC2} exfil=${gen.plantedHosts.exfilHost}->${gen.plantedHosts.exfilDest}\n`);
  process.stdout.write(`query it yourself: duckdb -c "SELECT * FROM read_parquet('${glob}', hive_partitioning=true) LIMIT 10"\n`);
  return code;
}
