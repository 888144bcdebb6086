#!/usr/bin/env -S node --no-node-snapshot
// The damselfly CLI entry: dispatch to a command; user errors print one line, no stack trace.
import { readFileSync } from 'node:fs';
import { isUserError, formatError } from '../streams/errors.js';

interface Command {
  summary: string;
  load: () => Promise<(argv: string[]) => Promise<number>>;
}

const COMMANDS: Record<string, Command> = {
  run: { summary: 'whole pipeline in one process: capture → flows → Parquet', load: async () => (await import('./commands/run.js')).runCommand },
  sensor: { summary: 'meter a capture into flow events (--format jsonl)', load: async () => (await import('./commands/sensor.js')).sensorCommand },
  demo: { summary: 'generate a synthetic capture and run the pipeline on it', load: async () => (await import('./commands/demo.js')).demoCommand },
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

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
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
