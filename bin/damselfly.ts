#!/usr/bin/env -S node --no-node-snapshot
// The damselfly CLI entry: dispatch to a command; user errors print one line, no stack trace.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isUserError, formatError } from '../streams/errors.js';

interface Command {
  summary: string;
  load: () => Promise<(argv: string[]) => Promise<number>>;
}

const COMMANDS: Record<string, Command> = {
  run: { summary: 'whole pipeline in one process: capture → flows → Parquet', load: async () => (await import('./commands/run.js')).runCommand },
  sensor: { summary: 'meter a capture into flow events (--format jsonl)', load: async () => (await import('./commands/sensor.js')).sensorCommand },
  analyze: { summary: 'analyzer workers over Kafka: events in, alerts out (scale-out)', load: async () => (await import('./commands/analyze.js')).analyzeCommand },
  sink: { summary: 'one sink over Kafka: sink parquet | sink alerts (scale-out)', load: async () => (await import('./commands/sink.js')).sinkCommand },
  demo: { summary: 'generate a synthetic capture and run the pipeline on it', load: async () => (await import('./commands/demo.js')).demoCommand },
  alerts: { summary: 'report alerts per analyzer and host from an alerts JSONL file or directory', load: async () => (await import('./commands/alerts.js')).alertsCommand },
  license: { summary: 'license keygen | issue | verify: Ed25519 keys and signed licenses', load: async () => (await import('./commands/license.js')).licenseCommand },
  verify: { summary: 'verify FILE|DIR: the signed provenance of Parquet files (who wrote them, unaltered)', load: async () => (await import('./commands/verify.js')).verifyCommand },
  config: { summary: 'config example (every key, annotated) | config print [-c FILE] (the effective config)', load: async () => (await import('./commands/config.js')).configCommand },
  analyzer: { summary: 'analyzer new NAME | analyzer test FILE.ts --replay <capture|jsonl|parquet>', load: async () => (await import('./commands/analyzer.js')).analyzerCommand },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
  return `damselfly ${version()} — streaming network analytics\n\nUsage: damselfly <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun 'damselfly <command> --help' for the options of each command.\n`;
}

/**
 * isolated-vm (the analyzer sandboxes) needs `node --no-node-snapshot` on Node 20 (V8's shared
 * read-only heap crashes when isolates start from different snapshots). The executable (shebang,
 * `npm link`) passes the flag: that costs every command ~40-60 ms of start-up on the 2-core box,
 * while starting twice costs a run with analyzers ~300 ms. Started as `node dist/bin/damselfly.js`,
 * the CLI re-runs itself with the flag only when analyzers may run: `analyzer`, `demo`, `analyze`,
 * and `run` unless the command line turns every analyzer off (a config file may turn them on: re-run then).
 */
function needsSandbox(cmd: string, rest: string[]): boolean {
  if (rest.includes('--help') || rest.includes('-h')) return false;
  if (cmd === 'analyzer' || cmd === 'demo') return true;
  if (cmd !== 'run' && cmd !== 'analyze') return false;
  const hasConfig = rest.some((a) => a === '-c' || a === '--config' || a.startsWith('--config=') || /^-c./.test(a));
  const userAnalyzers = rest.some((a) => a === '--analyzers' || a.startsWith('--analyzers='));
  return hasConfig || userAnalyzers || !rest.includes('--no-builtin-analyzers');
}

function hasSnapshotFlag(): boolean {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].includes('--no-node-snapshot');
}

/** Runs this CLI again under `node --no-node-snapshot`, passing stdio, signals and the exit status. */
function rerunWithoutSnapshot(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, '--no-node-snapshot', process.argv[1]!, ...argv], { stdio: 'inherit' });
    // Ctrl-C reaches the child through the terminal's process group; forward what is sent to us.
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 128 + 15));
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== undefined && needsSandbox(cmd, rest) && !hasSnapshotFlag()) return rerunWithoutSnapshot(argv);
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    if (cmd === 'help' && rest[0] && COMMANDS[rest[0]]) return (await COMMANDS[rest[0]]!.load())(['--help']);
    process.stdout.write(usage());
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '-V' || cmd === '--version') {
    process.stdout.write(`damselfly ${version()}\n`);
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`damselfly: error: unknown command '${cmd}' (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  return (await c.load())(rest);
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

let settled = false;
// A command whose work stalls with nothing left to run would otherwise end with status 0 and no
// output: say so and fail.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write('damselfly: internal error: the command stopped making progress before it finished (nothing left to wait for)\n');
  process.exitCode = 70;
});

main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (e: unknown) => {
    settled = true;
    if (isUserError(e)) {
      process.stderr.write(`damselfly: error: ${formatError(e)}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`damselfly: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      if (e instanceof Error && e.cause) process.stderr.write(`caused by: ${String(e.cause instanceof Error ? e.cause.stack : e.cause)}\n`);
      process.exitCode = 70;
    }
  },
);
