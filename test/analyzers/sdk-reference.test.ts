// The SDK reference page (analyzers/sdk/REFERENCE.md) is what `damselfly analyzer docs` generates
// from the SDK's types and the event table: stale pages fail here. It names every export of the
// SDK and every event field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sdk from '../../analyzers/sdk/index.js';
import { EVENT_TYPES, HOOK_TYPES } from '../../streams/events/table.js';
import { ROOT, runCli } from '../helpers.js';

test('REFERENCE.md is up to date (regenerate: damselfly analyzer docs > analyzers/sdk/REFERENCE.md)', () => {
  const r = runCli(['analyzer', 'docs']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(ROOT, 'analyzers', 'sdk', 'REFERENCE.md'), 'utf8'), r.stdout);
});

test('the page documents every SDK export and every event field', () => {
  const page = readFileSync(join(ROOT, 'analyzers', 'sdk', 'REFERENCE.md'), 'utf8');
  for (const name of Object.keys(sdk)) assert.match(page, new RegExp(`^### \`${name}\`$`, 'm'), `export ${name}`);
  for (const name of ['Ctx', 'AlertSpec', 'Batch', 'FlowEvent', 'DnsEvent', 'TlsEvent', 'HttpEvent', 'SeverityThresholds']) assert.match(page, new RegExp(`^### \`${name}\`$`, 'm'), `type ${name}`);
  for (const h of HOOK_TYPES) for (const c of EVENT_TYPES[h].columns) assert.match(page, new RegExp(`^\\| \`${c.name}\` \\|`, 'm'), `${h}.${c.name}`);
  assert.match(page, /\| `alert\(a: AlertSpec\): void` \|/);
});
