// Minimal structured logger: one line per message, naming the component; levels follow
// output.verbose (0=warnings, 1=info, 2=debug, 3=trace). Logs go to stderr so stdout stays data.
import { appendFileSync } from 'node:fs';
import { num, str, type Config, type SectionSpec } from './config.js';

export type Level = 'error' | 'warn' | 'info' | 'debug' | 'trace';
const RANK: Record<Level, number> = { error: -1, warn: 0, info: 1, debug: 2, trace: 3 };

let verbosity = 1;
let logFile: string | undefined;

export function configureLog(opts: { verbose?: number; file?: string }): void {
  if (opts.verbose !== undefined) verbosity = opts.verbose;
  logFile = opts.file;
}

export function logEnabled(level: Level): boolean {
  return RANK[level] <= verbosity;
}

export function log(level: Level, component: string, msg: string, fields?: Record<string, unknown>): void {
  if (!logEnabled(level)) return;
  const kv = fields
    ? ' ' + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`).join(' ')
    : '';
  const line = `${level === 'info' ? '' : `${level}: `}${component}: ${msg}${kv}`;
  if (logFile) appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
  else process.stderr.write(line + '\n');
}

/** The logger's keys of the `output` section. */
export const LOG_OUTPUT_KEYS: SectionSpec = {
  stats: { type: 'bool', default: false, description: 'Print statistics at exit' },
  verbose: { type: 'int', default: 1, min: 0, max: 3, description: '0=warnings, 1=info, 2=debug, 3=trace' },
  log_file: { type: 'string', description: 'Log file path (default: stderr)', example: '/var/log/damselfly.log' },
  progress_s: { type: 'number', default: 2, min: 0, description: 'Seconds between progress lines on stderr (0: none)' },
};

export function configureLogFromConfig(c: Config): void {
  configureLog({ verbose: num(c, 'output', 'verbose'), file: str(c, 'output', 'log_file') });
}
