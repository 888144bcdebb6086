// Config schema machinery shared by every module: each module declares its sections as data
// (key, type, default, bounds, description); this file validates a YAML document against them,
// rejects unknown keys and reports every problem at once, each with its path.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UserError } from './errors.js';

export type KeyType = 'string' | 'int' | 'bool' | 'number';

export interface KeySpec {
  type: KeyType;
  default?: string | number | boolean;
  description: string;
  min?: number;
  max?: number;
  enum?: readonly string[];
  example?: string | number | boolean;
}

export type SectionSpec = Record<string, KeySpec>;
export type ConfigSchema = Record<string, SectionSpec>;

export type ConfigValue = string | number | boolean | undefined;
export type ConfigSection = Record<string, ConfigValue>;
export type Config = Record<string, ConfigSection>;

export class ConfigError extends UserError {
  constructor(readonly problems: string[], source?: string) {
    super(
      `invalid configuration${source ? ` in ${source}` : ''}: ${problems.join('; ')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Check one value against its spec; returns the coerced value or a problem string. */
export function checkValue(path: string, spec: KeySpec, raw: unknown): { value?: ConfigValue; problem?: string } {
  switch (spec.type) {
    case 'string': {
      if (typeof raw !== 'string' && typeof raw !== 'number') return { problem: `${path}: must be a string` };
      const s = String(raw);
      if (spec.enum && !spec.enum.includes(s)) return { problem: `${path}: must be one of ${spec.enum.join(', ')} (got '${s}')` };
      return { value: s };
    }
    case 'bool': {
      if (typeof raw === 'boolean') return { value: raw };
      if (raw === 'true' || raw === 'false') return { value: raw === 'true' };
      return { problem: `${path}: must be true or false` };
    }
    case 'int':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return { problem: `${path}: must be a number (got '${String(raw)}')` };
      if (spec.type === 'int' && !Number.isInteger(n)) return { problem: `${path}: must be an integer (got ${n})` };
      if (spec.min !== undefined && n < spec.min) {
        return { problem: `${path}: must be ${spec.min === 1 && spec.type === 'int' ? '> 0' : `>= ${spec.min}`} (got ${n})` };
      }
      if (spec.max !== undefined && n > spec.max) return { problem: `${path}: must be <= ${spec.max} (got ${n})` };
      return { value: n };
    }
  }
}

/** Defaults of every key in the schema. */
export function defaults(schema: ConfigSchema): Config {
  const out: Config = {};
  for (const [section, keys] of Object.entries(schema)) {
    out[section] = {};
    for (const [k, spec] of Object.entries(keys)) out[section]![k] = spec.default;
  }
  return out;
}

/** Validate a parsed document (unknown sections/keys are errors); merge over defaults. */
export function validate(schema: ConfigSchema, doc: unknown, source?: string): Config {
  const cfg = defaults(schema);
  const problems: string[] = [];
  if (doc === null || doc === undefined) return cfg;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(['top level: must be a mapping of sections'], source);
  for (const [section, body] of Object.entries(doc as Record<string, unknown>)) {
    const spec = schema[section];
    if (!spec) {
      problems.push(`${section}: unknown section (known: ${Object.keys(schema).join(', ')})`);
      continue;
    }
    if (body === null || body === undefined) continue;
    if (typeof body !== 'object' || Array.isArray(body)) {
      problems.push(`${section}: must be a mapping`);
      continue;
    }
    for (const [k, raw] of Object.entries(body as Record<string, unknown>)) {
      const ks = spec[k];
      const path = `${section}.${k}`;
      if (!ks) {
        problems.push(`${path}: unknown key`);
        continue;
      }
      const r = checkValue(path, ks, raw);
      if (r.problem) problems.push(r.problem);
      else cfg[section]![k] = r.value;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, source);
  return cfg;
}

/** Read and validate a YAML config file. */
export function loadConfigFile(schema: ConfigSchema, file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read config file ${file}: ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`);
  }
  let doc: unknown;
  try {
    // Loaded on first use: the yaml package is 72 CommonJS files (~40 ms of start-up) and most
    // runs take no config file.
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    doc = parse(text);
  } catch (e) {
    throw new UserError(`cannot parse config file ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  return validate(schema, doc, file);
}

/** Reference text for a schema (used by --help and docs, so docs cannot drift from the schema). */
export function describeSchema(schema: ConfigSchema): string {
  const lines: string[] = [];
  for (const [section, keys] of Object.entries(schema)) {
    lines.push(`${section}:`);
    for (const [k, s] of Object.entries(keys)) {
      const def = s.default === undefined ? '' : ` (default: ${String(s.default)})`;
      const en = s.enum ? ` [${s.enum.join('|')}]` : '';
      lines.push(`  ${k}: ${s.type}${en}${def} — ${s.description}`);
    }
  }
  return lines.join('\n');
}

// Typed reads of a validated config, for the modules' resolvers (every key has been checked
// against its spec, so only absence needs handling).
export function str(c: Config, section: string, key: string): string | undefined {
  const v = c[section]?.[key];
  return v === undefined ? undefined : String(v);
}
export function num(c: Config, section: string, key: string): number {
  return Number(c[section]?.[key]);
}
export function bool(c: Config, section: string, key: string): boolean {
  return c[section]?.[key] === true;
}
