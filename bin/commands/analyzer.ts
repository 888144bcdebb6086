// `damselfly analyzer new NAME` scaffolds an analyzer folder; `damselfly analyzer test FILE.ts
// --replay <capture|flows.jsonl|events.jsonl|flows.parquet>` runs one analyzer on recorded traffic
// (in its sandbox, as in the pipeline) and prints its alerts and timing.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { testAnalyzer } from '../../pipeline/replay.js';
import { folderScript, specForScript } from '../../analyzers/runtime/discover.js';
import { typecheckAnalyzer } from '../../analyzers/runtime/typecheck.js';
import { UserError } from '../../streams/errors.js';
import { configureLog } from '../../streams/log.js';

const HELP = `Usage:
  damselfly analyzer new NAME [--dir DIR]
      Create DIR/NAME/ (default ./NAME/) with NAME.ts (typed hooks) and config.yaml.
  damselfly analyzer check FILE.ts|DIR
      Type-check the analyzer against the SDK's types (strict TypeScript): misspelled event
      fields, wrong hook signatures; each problem as FILE:LINE:COL, exit 1 when there is one.
  damselfly analyzer docs
      The SDK reference (Markdown; analyzers/sdk/REFERENCE.md is this output).
  damselfly analyzer test FILE.ts|DIR --replay INPUT [options]
      Run one analyzer on recorded traffic; print its alerts (JSON lines on stdout) and a summary
      with timing (stderr). INPUT: a capture (.pcap/.pcapng/.cap, metered by the sensor),
      flow records or events as JSON lines (.jsonl/.ndjson), or flow records in Parquet (.parquet).
Options (test):
  --config FILE.yaml   the analyzer's config (default: its own config.yaml / NAME.yaml)
  --quiet              no alert lines, summary only
  -v, --verbose        analyzer and runtime logs on stderr
`;

const NAME_RE = /^[a-z][a-z0-9-]{0,62}$/;

function template(name: string): string {
  return `// Analyzer '${name}': runs in its own sandbox (no Node APIs); see the SDK for the ctx API (v1).
// Try it:  damselfly analyzer test ${name}/${name}.ts --replay capture.pcap
import type { Ctx, DnsEvent, FlowEvent } from 'damselfly/sdk';

// Config keys with their defaults; config.yaml beside this file overrides them (unknown keys are errors).
export const config = {
  /** Alert on flows that move more than this many bytes (both directions). */
  min_bytes: 10_000_000,
  /** Alert on DNS query names longer than this. */
  max_query_length: 100,
};

type Config = typeof config;

export function setup(ctx: Ctx<Config>): void {
  ctx.log('info', \`${name} ready: min_bytes=\${ctx.config.min_bytes}\`);
}

export function flow(e: FlowEvent, ctx: Ctx<Config>): void {
  const bytes = e.sbytes + e.dbytes;
  if (bytes < ctx.config.min_bytes) return;
  ctx.score('big_flow_bytes', bytes);
  ctx.alert({ score: 0.6, reason: \`large flow \${e.saddr} -> \${e.daddr}:\${e.dport}\`, factors: { bytes }, key: e.flowid });
}

export function dns(e: DnsEvent, ctx: Ctx<Config>): void {
  if (e.query.length <= ctx.config.max_query_length) return;
  // Count per client in the bounded TTL state store (expires on event time).
  const n = ctx.state.incr(\`long:\${e.saddr}\`, 1, 600_000) as number;
  ctx.alert({ score: Math.min(1, 0.5 + n / 20), reason: \`long DNS query name from \${e.saddr}\`, factors: { query: e.query, count: n }, key: e.saddr });
}
`;
}

function configTemplate(name: string): string {
  return `# Config of analyzer '${name}' (keys and defaults: \`config\` in ${name}.ts).
# min_bytes: 10000000
# max_query_length: 100
# Operator keys: enabled: false | memory_mb | batch_cpu_ms | batch_wall_ms | files: [grants] | refresh_s
`;
}

function newCommand(args: string[]): number {
  let dir = '.';
  let name: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--dir') {
      if (!args[i + 1]) throw new UserError('--dir needs a folder');
      dir = args[++i]!;
    } else if (a.startsWith('-')) throw new UserError(`analyzer new: unknown option ${a}`);
    else if (name === undefined) name = a;
    else throw new UserError(`analyzer new: unexpected argument '${a}'`);
  }
  if (!name) throw new UserError('analyzer new needs a NAME (lower case letters, digits, dashes)');
  if (!NAME_RE.test(name)) throw new UserError(`analyzer new: '${name}' is not a valid name (lower case letters, digits, dashes; starts with a letter)`);
  const folder = path.resolve(dir, name);
  if (existsSync(folder)) throw new UserError(`analyzer new: ${folder} already exists`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, `${name}.ts`), template(name));
  writeFileSync(path.join(folder, 'config.yaml'), configTemplate(name));
  process.stdout.write(`created ${path.join(folder, `${name}.ts`)}\ncreated ${path.join(folder, 'config.yaml')}\n`);
  return 0;
}

/** FILE.ts, or a folder analyzer's script (discover.ts folderScript). */
function analyzerScript(arg: string): string {
  if (!existsSync(arg)) throw new UserError(`${arg}: no such file`);
  if (!statSync(arg).isDirectory()) return arg;
  const found = folderScript(arg);
  if (!found) throw new UserError(`${arg}: no analyzer in this folder (expected ${path.join(arg, `${path.basename(path.resolve(arg))}.ts`)} or ${path.join(arg, 'index.ts')})`);
  return found;
}

async function checkCommand(args: string[]): Promise<number> {
  if (args.length !== 1 || args[0]!.startsWith('-')) throw new UserError('analyzer check needs one analyzer: damselfly analyzer check FILE.ts|DIR');
  const script = analyzerScript(args[0]!);
  const spec = specForScript(script);
  const problems = await typecheckAnalyzer(spec.script, spec.roots);
  for (const p of problems) process.stdout.write(`${p.file}:${p.line}:${p.column}: ${p.message}\n`);
  if (problems.length > 0) {
    process.stderr.write(`damselfly: analyzer ${spec.name}: ${problems.length} type problem${problems.length === 1 ? '' : 's'}\n`);
    return 1;
  }
  process.stderr.write(`analyzer ${spec.name}: no type problems\n`);
  return 0;
}

async function testCommand(args: string[]): Promise<number> {
  let script: string | undefined;
  let replay: string | undefined;
  let configFile: string | undefined;
  let quiet = false;
  let verbose = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--replay' || a === '--config') {
      const v = args[++i];
      if (!v) throw new UserError(`${a} needs a file`);
      if (a === '--replay') replay = v;
      else configFile = v;
    } else if (a === '--quiet') quiet = true;
    else if (a === '-v' || a === '--verbose') verbose++;
    else if (a.startsWith('-')) throw new UserError(`analyzer test: unknown option ${a}`);
    else if (script === undefined) script = a;
    else throw new UserError(`analyzer test: unexpected argument '${a}'`);
  }
  if (!script) throw new UserError('analyzer test needs the analyzer: damselfly analyzer test FILE.ts|DIR --replay INPUT');
  if (!replay) throw new UserError('analyzer test needs --replay <capture|flows.jsonl|events.jsonl|flows.parquet>');
  // A folder analyzer (the shape `analyzer new` makes): its index.ts or <folder>.ts.
  script = analyzerScript(script);
  if (!existsSync(replay)) throw new UserError(`${replay}: no such file`);
  configureLog({ verbose });
  const r = await testAnalyzer({
    script, replay, ...(configFile ? { configFile } : {}),
    onAlert: (a) => {
      if (!quiet) process.stdout.write(JSON.stringify(a) + '\n');
    },
  });
  if (r.notStarted !== undefined || !r.stats) {
    // The runtime has logged why (once); the last line says what it means.
    process.stderr.write(`damselfly: analyzer ${r.name} did not start (the error is above)\n`);
    return 1;
  }
  const st = r.stats;
  const total = Object.values(r.events).reduce((s, n) => s + n, 0);
  const evs = Object.entries(r.events).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  process.stderr.write(
    `summary: analyzer=${r.name} state=${st.state} events: ${evs} alerts=${r.alerts.length} errors=${st.eventErrors} failures=${st.failures}` +
      ` compile+start=${r.startMs.toFixed(0)}ms replay=${r.replayMs.toFixed(0)}ms analyzer_cpu=${st.cpuMs.toFixed(0)}ms` +
      ` analyzer_events/s=${st.cpuMs > 0 ? Math.round(st.events / (st.cpuMs / 1000)) : 0}${total ? '' : ' (no events in the input)'}\n`,
  );
  // The last line says why the exit code is not 0: events that failed count as much as a stop.
  const failed = st.state !== 'running' ? `analyzer ${r.name} is ${st.state}` : st.eventErrors > 0 ? `${st.eventErrors} events failed in analyzer ${r.name}` : '';
  if (failed) {
    process.stderr.write(`damselfly: incomplete (exit 1): ${failed}${st.lastError ? ` (last error: ${st.lastError})` : ''}\n`);
    return 1;
  }
  return 0;
}

export async function analyzerCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (sub === 'new') return newCommand(rest);
  if (sub === 'test') return testCommand(rest);
  if (sub === 'check') return checkCommand(rest);
  if (sub === 'docs') {
    if (rest.length > 0) throw new UserError('analyzer docs takes no arguments');
    const { sdkReference } = await import('../../analyzers/runtime/sdk-reference.js');
    process.stdout.write(await sdkReference());
    return 0;
  }
  throw new UserError(`analyzer: unknown subcommand '${sub}' (new, check, test, docs)`);
}
