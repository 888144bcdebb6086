// Inputs users have (issue 11): gzip- and zstd-compressed captures and standard input (`-i -`) give
// the same events as the plain file (sensor/native/src/core/capture_stream.cc); a compressed file cut
// short ends with one error naming the file, the flows before it kept. Compressed with the real
// gzip and zstd tools; pcapng too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCapture } from '../../synth/index.js';
import { CLI, hasCommand, runCli, tempDir } from '../helpers.js';

/** The events of `sensor --format jsonl`, flow ids left out (they are random per run). */
function events(stdout: string): string[] {
  return stdout.trim().split('\n').map((l) => l.replace(/"flowid":"[^"]*",/, ''));
}

function sensor(input: string, stdin?: Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--no-node-snapshot', CLI, 'sensor', '-i', input, '--format', 'jsonl', '-q'], { input: stdin ?? '', encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('compressed and piped captures', { timeout: 300_000 }, () => {
  const t = tempDir();
  const pcap = join(t.dir, 'mix.pcap');
  let plain: string[] = [];
  before(async () => {
    await generateCapture({ out: pcap, packets: 30_000, seed: 11, truth: false });
    execFileSync('gzip', ['-k', pcap]);
    execFileSync('zstd', ['-q', '-k', pcap]);
    const r = sensor(pcap);
    assert.equal(r.status, 0, r.stderr);
    plain = events(r.stdout);
    assert.ok(plain.length > 500, `events of the plain file: ${plain.length}`);
  });
  after(() => t.cleanup());

  for (const [name, file] of [['gzip', 'mix.pcap.gz'], ['zstd', 'mix.pcap.zst']] as const) {
    it(`${name}: the same events as the plain file`, () => {
      const r = sensor(join(t.dir, file));
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(events(r.stdout), plain);
    });
  }

  it('-i - reads standard input: plain and gzip-compressed', () => {
    for (const f of ['mix.pcap', 'mix.pcap.gz']) {
      const r = sensor('-', readFileSync(join(t.dir, f)));
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
      assert.deepEqual(events(r.stdout), plain, f);
    }
  });

  it('concatenated gzip members (pigz, appended rotations) are read to the end', () => {
    // The capture split in two at a byte boundary, each half its own gzip member.
    const bytes = readFileSync(pcap);
    const half = Math.floor(bytes.length / 2);
    const a = execFileSync('gzip', ['-c'], { input: bytes.subarray(0, half), maxBuffer: 1 << 28 });
    const b = execFileSync('gzip', ['-c'], { input: bytes.subarray(half), maxBuffer: 1 << 28 });
    const f = join(t.dir, 'members.pcap.gz');
    writeFileSync(f, Buffer.concat([a, b]));
    const r = sensor(f);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(events(r.stdout), plain);
  });

  it('pcapng compressed with zstd', { skip: hasCommand('editcap') ? false : 'editcap (tshark) is not installed' }, () => {
    const ng = join(t.dir, 'mix.pcapng');
    execFileSync('editcap', ['-F', 'pcapng', pcap, ng]);
    execFileSync('zstd', ['-q', '-k', ng]);
    const r = sensor(`${ng}.zst`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(events(r.stdout), plain);
  });

  it('a compressed capture cut short: one error naming the file, exit 1, the flows before it kept', () => {
    const gz = readFileSync(join(t.dir, 'mix.pcap.gz'));
    const cut = join(t.dir, 'cut.pcap.gz');
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * 0.6)));
    const out = join(t.dir, 'cut-flows');
    const r = runCli(['run', '-i', cut, '--parquet-dir', out, '--no-builtin-analyzers']);
    assert.equal(r.status, 1, r.stderr);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: sensor: '));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0]!, /cut\.pcap\.gz: /);
    const rows = Number(/parquet_rows=(\d+)/.exec(r.stderr)?.[1]);
    assert.ok(rows > 0, `flows before the cut are written: ${rows}`);
    assert.match(r.stderr.trimEnd().split('\n').pop()!, /^damselfly: incomplete \(exit 1\): .*cut\.pcap\.gz/);
  });
});
