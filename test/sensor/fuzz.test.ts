// Robustness: each libFuzzer target (sensor/native/fuzz: DNS, TLS, QUIC, DTLS and HTTP parsers, packet
// decode, the capture file reader) is built with ASan/UBSan and run for ~15 s from the seed corpus by scripts/fuzz.sh;
// the run must end cleanly (exit 0, no sanitizer report, no crash artifact). Longer runs:
// bench/fuzz-long.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand } from '../helpers.js';
import { REPO } from './helpers.js';

const TARGETS = ['dns', 'tls', 'quic', 'dtls', 'http', 'decode', 'pcapfile'];
const SECS = 15;
const clang = hasCommand('clang++');

test('libFuzzer targets run clean for ~15 s each', { skip: !clang && 'skipped: clang++ is not installed (scripts/setup.sh installs it)', timeout: 900_000 }, () => {
  const artifacts = join(REPO, '.cache', 'fuzz', 'artifacts');
  const before = new Set(existsSync(artifacts) ? readdirSync(artifacts) : []);
  const r = spawnSync('bash', [join(REPO, 'scripts', 'fuzz.sh'), String(SECS), ...TARGETS], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, FUZZ_SEED: '1' } });
  const out = `${r.stdout}\n${r.stderr}`;
  const fresh = existsSync(artifacts) ? readdirSync(artifacts).filter((f) => !before.has(f)) : [];
  assert.deepEqual(fresh, [], `crash artifacts written:\n${out}`);
  assert.equal(r.status, 0, out);
  for (const t of TARGETS) {
    const m = new RegExp(`fuzz: ${t} ok: stat::number_of_executed_units: (\\d+)`).exec(out);
    assert.ok(m, `no clean result for ${t}:\n${out}`);
    assert.ok(Number(m[1]) > 1000, `${t}: only ${m[1]} executions`);
    const log = readFileSync(join(REPO, '.cache', 'fuzz', `${t}.log`), 'utf8');
    assert.doesNotMatch(log, /ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:/, `${t} log has a sanitizer report`);
    console.log(`# fuzz ${t}: ${m[1]} executions in ${SECS} s`);
  }
});
