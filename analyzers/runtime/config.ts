// Per-analyzer YAML config: the analyzer's exported `config` object gives the keys, defaults and
// types; its YAML file overrides them. Unknown keys and type mismatches are errors, all reported
// at once with their path (same rule as streams/config.ts). A few keys are the operator's, not the
// script's: they set budgets and grants and are never visible to the analyzer.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../streams/config.js';
import { DEFAULT_SEVERITY, checkSeverity } from '../sdk/index.js';

export interface OperatorKeys {
  enabled: boolean;
  /** Extra files/URLs the analyzer may read with ctx.files (relative to the YAML's folder). */
  files: string[];
  memory_mb?: number;
  batch_wall_ms?: number;
  batch_cpu_ms?: number;
  /** Re-fetch granted URLs (and re-read granted files) every this many seconds; reload when changed. */
  refresh_s?: number;
  /** Score thresholds of MEDIUM / HIGH / CRITICAL for this analyzer's alerts (sdk SeverityThresholds). */
  severity?: Record<string, number>;
}

export const OPERATOR_KEYS = ['enabled', 'files', 'memory_mb', 'batch_wall_ms', 'batch_cpu_ms', 'refresh_s', 'severity'] as const;

export interface AnalyzerConfig {
  operator: OperatorKeys;
  config: Record<string, unknown>;
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * The sandbox heap `file` asks for (memory_mb), read before the analyzer's sandbox is made so that
 * it is made once with that size; undefined when absent or unreadable (loadAnalyzerConfig reports).
 */
export function peekMemoryMb(file: string): number | undefined {
  try {
    const doc = parseYaml(readFileSync(file, 'utf8')) as unknown;
    const v = doc && typeof doc === 'object' ? (doc as Record<string, unknown>).memory_mb : undefined;
    return typeof v === 'number' && v > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Merge `file` over `defaults`; throws ConfigError listing every problem. */
export function loadAnalyzerConfig(name: string, file: string, defaults: Record<string, unknown>): AnalyzerConfig {
  let doc: unknown = undefined;
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    try {
      doc = parseYaml(text);
    } catch (e) {
      throw new ConfigError([`${name}: cannot parse YAML: ${(e as Error).message.split('\n')[0]}`], file);
    }
  }
  const operator: OperatorKeys = { enabled: true, files: [] };
  const config: Record<string, unknown> = JSON.parse(JSON.stringify(defaults)) as Record<string, unknown>;
  if (doc === null || doc === undefined) return { operator, config };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError([`${name}: must be a mapping`], file);
  const problems: string[] = [];
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    const p = `${name}.${k}`;
    if (k === 'enabled') {
      if (typeof v !== 'boolean') problems.push(`${p}: must be true or false`);
      else operator.enabled = v;
    } else if (k === 'files') {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) problems.push(`${p}: must be a list of paths`);
      else operator.files = (v as string[]).map((f) => (/^https?:\/\//.test(f) ? f : path.resolve(path.dirname(file), f)));
    } else if (k === 'memory_mb' || k === 'batch_wall_ms' || k === 'batch_cpu_ms' || k === 'refresh_s') {
      if (typeof v !== 'number' || !(v > 0)) problems.push(`${p}: must be > 0`);
      else operator[k] = v;
    } else if (k === 'severity') {
      try {
        // Levels and ranges here; whether they rise is checked with the analyzer's own thresholds at setup.
        checkSeverity(v, DEFAULT_SEVERITY, p, false);
        operator.severity = v as Record<string, number>;
      } catch (e) {
        problems.push((e as Error).message);
      }
    } else if (!(k in defaults)) {
      problems.push(`${p}: unknown key (known: ${[...OPERATOR_KEYS, ...Object.keys(defaults)].join(', ')})`);
    } else if (kind(defaults[k]) !== kind(v) && defaults[k] !== null) {
      problems.push(`${p}: must be a ${kind(defaults[k])} (got ${kind(v)})`);
    } else config[k] = v;
  }
  if (problems.length > 0) throw new ConfigError(problems, file);
  return { operator, config };
}
