// The generated config documents (streams/config-yaml.ts): the repository's damselfly.example.yaml
// is up to date with the schema, parses, sets every defaulted key to its default, names every key,
// and its commented examples are valid values; `damselfly config print` shows file and flags over
// the defaults, secrets masked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROCESS_CONFIG } from '../../pipeline/config.js';
import { defaults, loadConfigFile } from '../../streams/config.js';
import { exampleYaml } from '../../streams/config-yaml.js';
import { EXAMPLE_HEADER } from '../../bin/commands/config.js';
import { ROOT, runCli, tempDir } from '../helpers.js';

const EXAMPLE = join(ROOT, 'damselfly.example.yaml');

test('damselfly.example.yaml is what `damselfly config example` prints (regenerate: damselfly config example > damselfly.example.yaml)', () => {
  const r = runCli(['config', 'example']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, exampleYaml(PROCESS_CONFIG, EXAMPLE_HEADER));
  assert.equal(readFileSync(EXAMPLE, 'utf8'), r.stdout, 'the checked-in example is stale');
});

test('the example parses, sets every defaulted key to its default and names every key', () => {
  const cfg = loadConfigFile(PROCESS_CONFIG, EXAMPLE);
  const d = defaults(PROCESS_CONFIG);
  for (const [section, keys] of Object.entries(PROCESS_CONFIG)) {
    for (const [k, s] of Object.entries(keys)) {
      if (s.default !== undefined) assert.deepEqual(cfg[section]![k], d[section]![k], `${section}.${k}`);
    }
  }
  const text = readFileSync(EXAMPLE, 'utf8');
  for (const [section, keys] of Object.entries(PROCESS_CONFIG)) {
    const body = text.split(/^(?=\S)/m).find((b) => b.startsWith(`${section}:`));
    assert.ok(body, `section ${section} missing`);
    for (const k of Object.keys(keys)) assert.match(body, new RegExp(`^  (# )?${k}: `, 'm'), `${section}.${k} missing`);
  }
});

test('every commented example value is valid for its key', () => {
  const t = tempDir();
  try {
    const text = readFileSync(EXAMPLE, 'utf8').replace(/^ {2}# ([a-z_]+: .*)$/gm, '  $1');
    const f = join(t.dir, 'all.yaml');
    writeFileSync(f, text);
    const cfg = loadConfigFile(PROCESS_CONFIG, f);
    assert.equal(cfg.kafka!.brokers, '127.0.0.1:9092');
  } finally {
    t.cleanup();
  }
});

test('config print: the file and the flags over the defaults; secrets masked', () => {
  const t = tempDir();
  try {
    const f = join(t.dir, 'c.yaml');
    writeFileSync(f, 'flow:\n  idle_timeout: 120\nkafka:\n  sasl_password: hunter2\n');
    const r = runCli(['config', 'print', '-c', f, '--active-timeout', '900']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^flow:\n(?: {2}.*\n)*? {2}idle_timeout: 120\n/m);
    assert.match(r.stdout, /^ {2}active_timeout: 900$/m);
    assert.match(r.stdout, /^ {2}max_flows: 0$/m, 'defaults are shown');
    assert.match(r.stdout, /^ {2}sasl_password: "\*\*\*"$/m);
    assert.doesNotMatch(r.stdout, /hunter2/);
    const bad = runCli(['config', 'print', '--idle-timeout', 'soon']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^damselfly: error: invalid value: --idle-timeout: must be a number/);
  } finally {
    t.cleanup();
  }
});
