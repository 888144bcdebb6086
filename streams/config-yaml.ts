// A config schema written out as YAML: the annotated example (`damselfly config example`, the
// repository's damselfly.example.yaml: every key with its description, its default, or — when it
// has none — commented out with an example value) and an effective config (`damselfly config
// print`: every key with the value a run would use). Generated from the schema, so neither can
// drift from what the modules accept.
import type { Config, ConfigSchema, ConfigValue, KeySpec } from './config.js';

/** Keys whose values are secrets: never printed. */
const SECRET = /password|secret|token/i;

function scalar(v: string | number | boolean): string {
  if (typeof v !== 'string') return String(v);
  // Plain when YAML reads it back as the same string; quoted otherwise.
  return /^[A-Za-z0-9_./-][A-Za-z0-9_./: -]*$/.test(v) && !/^(true|false|null|yes|no|on|off|~|[-+]?[0-9.]+(e[-+]?[0-9]+)?)$/i.test(v) && !v.endsWith(' ') && !v.includes(': ')
    ? v
    : JSON.stringify(v);
}

function wrap(text: string, indent: string, width = 100): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/)) {
    if (line && indent.length + 2 + line.length + 1 + w.length > width) {
      out.push(`${indent}# ${line}`);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(`${indent}# ${line}`);
  return out;
}

function constraints(s: KeySpec): string {
  const parts: string[] = [];
  if (s.enum) parts.push(`one of: ${s.enum.join(', ')}`);
  if (s.min !== undefined && s.max !== undefined) parts.push(`${s.min}..${s.max}`);
  else if (s.min !== undefined) parts.push(`>= ${s.min}`);
  else if (s.max !== undefined) parts.push(`<= ${s.max}`);
  return parts.length ? ` (${parts.join('; ')})` : '';
}

/** The annotated example of `schema`: it parses, and sets every key that has a default to it. */
export function exampleYaml(schema: ConfigSchema, header: string): string {
  const out: string[] = [...header.split('\n').map((l) => (l ? `# ${l}` : '#')), ''];
  for (const [section, keys] of Object.entries(schema)) {
    out.push(`${section}:`);
    for (const [k, s] of Object.entries(keys)) {
      out.push(...wrap(`${s.description}${constraints(s)}`, '  '));
      if (s.default !== undefined && !(typeof s.default === 'number' && !Number.isFinite(s.default))) out.push(`  ${k}: ${scalar(s.default)}`);
      else if (s.example !== undefined) out.push(`  # ${k}: ${scalar(s.example)}`);
      else throw new Error(`internal: config key ${section}.${k} has neither a default nor an example`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** Every key of `cfg` (validated against `schema`) with its value; secrets masked, unset keys as comments. */
export function effectiveYaml(schema: ConfigSchema, cfg: Config): string {
  const out: string[] = [];
  for (const [section, keys] of Object.entries(schema)) {
    out.push(`${section}:`);
    for (const k of Object.keys(keys)) {
      const v: ConfigValue = cfg[section]?.[k];
      if (v === undefined) out.push(`  # ${k}: (not set)`);
      else if (SECRET.test(k)) out.push(`  ${k}: "***"`);
      else out.push(`  ${k}: ${scalar(v)}`);
    }
  }
  return out.join('\n') + '\n';
}
