// Bad input at the CLI: non-zero exit and exactly one clear line on stderr, no stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli, tempDir, CLI, assertOneLineError, emptyPcap } from '../helpers.js';


test('missing input file', () => {
  const t = tempDir();
  try {
    const r = runCli(['run', '-i', join(t.dir, 'nope.pcap'), '--parquet-dir', join(t.dir, 'out')]);
    assertOneLineError(r, /nope\.pcap: no such file/);
  } finally {
    t.cleanup();
  }
});

test('empty glob', () => {
  const t = tempDir();
  try {
    const r = runCli(['sensor', '-i', join(t.dir, '*.pcap'), '--format', 'jsonl']);
    assertOneLineError(r, /glob matches no files/);
  } finally {
    t.cleanup();
  }
});

test('unreadable file', () => {
  const t = tempDir();
  try {
    const f = join(t.dir, 'secret.pcap');
    writeFileSync(f, Buffer.alloc(64));
    chmodSync(f, 0o000);
    chmodSync(t.dir, 0o755);
    // As root every file is readable: drop to an unprivileged user to exercise the real check.
    const asRoot = process.getuid?.() === 0;
    const r = asRoot
      ? spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI, 'sensor', '-i', f], { encoding: 'utf8', cwd: '/' })
      : runCli(['sensor', '-i', f]);
    assertOneLineError(r, /secret\.pcap: permission denied/);
  } finally {
    t.cleanup();
  }
});

test('not a capture file', () => {
  const t = tempDir();
  try {
    const f = join(t.dir, 'notes.pcap');
    writeFileSync(f, 'this is not a capture\n'.repeat(10));
    const r = runCli(['run', '-i', f, '--parquet-dir', join(t.dir, 'out')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /notes\.pcap/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    t.cleanup();
  }
});

test('unknown flag', () => {
  const r = runCli(['run', '--frobnicate', '-i', 'x.pcap']);
  assertOneLineError(r, /unknown flag --frobnicate/);
});

test('unknown command', () => {
  const r = runCli(['frobnicate']);
  assertOneLineError(r, /unknown command 'frobnicate'/);
});

test('invalid flag value', () => {
  const r = runCli(['run', '-i', 'x.pcap', '--idle-timeout', 'soon', '--parquet-dir', '/tmp/x']);
  assertOneLineError(r, /--idle-timeout: must be a number/);
  const r2 = runCli(['run', '-i', 'x.pcap', '--idle-timeout', '0', '--parquet-dir', '/tmp/x']);
  assertOneLineError(r2, /--idle-timeout: must be > 0/);
});

test('unknown config key and invalid value are all reported with their paths', () => {
  const t = tempDir();
  try {
    const cfg = join(t.dir, 'bad.yaml');
    writeFileSync(cfg, 'flow:\n  idle_timeout: -5\n  idel_timeout: 3\nbogus:\n  a: 1\n');
    const r = runCli(['run', '-c', cfg]);
    assertOneLineError(r, /flow\.idle_timeout: must be > 0/);
    assert.match(r.stderr, /flow\.idel_timeout: unknown key/);
    assert.match(r.stderr, /bogus: unknown section/);
  } finally {
    t.cleanup();
  }
});

test('missing config file and broken YAML', () => {
  const t = tempDir();
  try {
    assertOneLineError(runCli(['run', '-c', join(t.dir, 'none.yaml')]), /cannot read config file .*none\.yaml: no such file/);
    const cfg = join(t.dir, 'broken.yaml');
    writeFileSync(cfg, 'flow: [unclosed\n');
    assertOneLineError(runCli(['run', '-c', cfg]), /cannot parse config file .*broken\.yaml/);
  } finally {
    t.cleanup();
  }
});

test('unwritable parquet directory', () => {
  const t = tempDir();
  try {
    const blocker = join(t.dir, 'file');
    writeFileSync(blocker, 'x');
    const pcap = join(t.dir, 'empty.pcap');
    writeFileSync(pcap, emptyPcap());
    const r = runCli(['run', '-i', pcap, '--parquet-dir', join(blocker, 'sub')]);
    assertOneLineError(r, /file\/sub: a parent is not a directory/);
    // A parent that takes no directories (Node's own recursive mkdir spins forever on /proc).
    const proc = runCli(['run', '-i', pcap, '--parquet-dir', '/proc/damselfly-test/x'], { timeoutMs: 30_000 });
    assert.equal(proc.error, undefined, 'fails at once, no hang');
    assertOneLineError(proc, /\/proc\/damselfly-test\/x: cannot create a directory there/);
  } finally {
    t.cleanup();
  }
});

test('every command has --help', () => {
  for (const cmd of ['run', 'sensor', 'demo']) {
    const r = runCli([cmd, '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: damselfly /);
    assert.match(r.stdout, /--help/);
  }
  const top = runCli(['--help']);
  assert.equal(top.status, 0);
  assert.match(top.stdout, /Commands:/);
});
