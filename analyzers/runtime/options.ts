// The `analyzers:` config section of a pipeline process (which analyzers run) and its resolver to
// AnalyzersOptions. Per-analyzer settings live in each analyzer's own YAML (config.ts).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { str, type Config, type SectionSpec } from '../../streams/config.js';
import { UserError } from '../../streams/errors.js';
import type { AnalyzersOptions } from './index.js';

export const ANALYZERS_CONFIG_SECTION: SectionSpec = {
  builtins: { type: 'bool', default: true, description: 'Run the built-in analyzers (dga, threat-feed, ...)' },
  disable: { type: 'string', default: '', description: 'Comma-separated built-in analyzers to turn off', example: 'dga' },
  dir: { type: 'string', description: 'Folder of user analyzers (one .ts file or folder per analyzer)', example: './analyzers' },
  config_dir: { type: 'string', description: "Folder of <analyzer>.yaml files overriding analyzers' own configs (e.g. threat-feed.yaml listing your feeds)", example: '/etc/damselfly/analyzers' },
};

/** Whether the config runs any analyzer (built-ins or a folder of the user's). */
export function analyzersEnabled(c: Config): boolean {
  return c.analyzers?.builtins !== false || str(c, 'analyzers', 'dir') !== undefined;
}

/** AnalyzersOptions from a validated config (reads analyzers.config_dir to map names to files). */
export function analyzersOptionsFromConfig(c: Config): AnalyzersOptions {
  const dir = str(c, 'analyzers', 'dir');
  const disable = (str(c, 'analyzers', 'disable') ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const configDir = str(c, 'analyzers', 'config_dir');
  const configFiles: Record<string, string> = {};
  if (configDir) {
    let names: string[];
    try {
      names = readdirSync(configDir);
    } catch {
      throw new UserError(`analyzers.config_dir ${configDir}: cannot read the folder`);
    }
    for (const f of names) if (/\.ya?ml$/.test(f)) configFiles[f.replace(/\.ya?ml$/, '')] = join(configDir, f);
  }
  return { builtins: c.analyzers?.builtins !== false, disable, dirs: dir ? [dir] : [], configFiles };
}
