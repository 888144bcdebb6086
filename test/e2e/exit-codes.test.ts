// Exit codes that tell the truth (issue 11): each case → the exit code and the LAST stderr line.
// 0: everything read, analyzed and delivered; 1: the run finished but something was lost, failed
// or not delivered (the last line says what); 2: bad input refused before anything started (one
// line, no summary). Real captures from the generator, real analyzers, a real closed port.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCapture } from '../../synth/index.js';
import { emptyPcap, runCli, tempDir } from '../helpers.js';

interface Ctx {
  dir: string;
  pcap: string;
  closedPort: number;
}

interface Case {
  name: string;
  args: (c: Ctx) => string[];
  exit: number;
  last: RegExp;
  /** More checks on the result. */
  check?: (r: { stdout: string; stderr: string }, c: Ctx) => void;
}

function lastLine(s: string): string {
  const lines = s.trimEnd().split('\n');
  return lines[lines.length - 1] ?? '';
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const CASES: Case[] = [
  {
    name: 'a file that is not a capture: refused before anything starts',
    args: (c) => ['run', '-i', join(c.dir, 'notes.txt'), '--parquet-dir', join(c.dir, 'out-a')],
    exit: 2,
    last: /^damselfly: error: input .*notes\.txt: not a capture file/,
    check: (r, c) => {
      assert.doesNotMatch(r.stderr, /summary:|analyzers: started/);
      assert.equal(existsSync(join(c.dir, 'out-a')), false, 'nothing written');
    },
  },
  {
    name: 'an empty file',
    args: (c) => ['sensor', '-i', join(c.dir, 'empty.pcap'), '--format', 'jsonl'],
    exit: 2,
    last: /^damselfly: error: input .*empty\.pcap: empty file, not a capture$/,
  },
  {
    name: 'a bad BPF filter: refused before the analyzers start',
    args: (c) => ['run', '-i', c.pcap, '--parquet-dir', join(c.dir, 'out-b'), '--filter', 'tcp and and'],
    exit: 2,
    last: /^damselfly: error: invalid filter 'tcp and and': .*syntax error/,
    check: (r) => assert.doesNotMatch(r.stderr, /summary:|analyzers: started|analyzer\.dga/),
  },
  {
    name: 'a glob the shell expanded',
    args: (c) => ['run', '-i', c.pcap, join(c.dir, 'other.pcap'), '--parquet-dir', join(c.dir, 'out-c')],
    exit: 2,
    last: /unexpected argument '.*other\.pcap'.*if your shell expanded a glob, quote it: -i '\/data\/\*\.pcap'$/,
  },
  {
    name: '-i given twice',
    args: (c) => ['run', '-i', c.pcap, '-i', join(c.dir, 'other.pcap'), '--parquet-dir', join(c.dir, 'out-d')],
    exit: 2,
    last: /^damselfly: error: flag -i given twice .*give it once/,
  },
  {
    name: 'a webhook URL that is not http(s): refused at start',
    args: (c) => ['run', '-i', c.pcap, '--parquet-dir', join(c.dir, 'out-e'), '--alerts-webhook', 'ftp://soc.example.com/hook'],
    exit: 2,
    last: /^damselfly: error: alerts\.webhook_url: 'ftp:\/\/soc\.example\.com\/hook' is not an http\(s\) URL$/,
  },
  {
    name: 'alerts the webhook did not take: exit 1, the last line says how many',
    args: (c) => ['run', '-i', c.pcap, '--parquet-dir', join(c.dir, 'out-f'), '--alerts-webhook', `http://127.0.0.1:${c.closedPort}/hook?token=s3cret`, '-c', join(c.dir, 'one-attempt.yaml')],
    exit: 1,
    last: /^damselfly: incomplete \(exit 1\): \d+ alerts not delivered to the webhook$/,
    check: (r) => {
      assert.match(r.stderr, /summary: /);
      assert.doesNotMatch(r.stderr + r.stdout, /s3cret/, 'the token in the URL never reaches the logs');
    },
  },
  {
    name: 'an analyzer that fails on events: exit 1',
    args: (c) => ['run', '-i', c.pcap, '--parquet-dir', join(c.dir, 'out-g'), '--no-builtin-analyzers', '--analyzers', join(c.dir, 'broken')],
    exit: 1,
    last: /^damselfly: incomplete \(exit 1\): analyzer broken failed on \d+ of \d+ events/,
  },
  {
    name: 'an analyzer that does not compile: exit 1, not counted as started',
    args: (c) => ['run', '-i', c.pcap, '--parquet-dir', join(c.dir, 'out-h'), '--no-builtin-analyzers', '--analyzers', join(c.dir, 'syntax'), '--alerts', join(c.dir, 'h.jsonl')],
    exit: 1,
    last: /^damselfly: incomplete \(exit 1\): analyzer syntax did not start: .*compile error at .*syntax\.ts:1:/,
    check: (r) => assert.match(r.stderr, /summary: .* analyzers=0 /),
  },
  {
    name: 'a threat feed that was not granted: exit 1, the analyzer\'s error named',
    args: (c) => ['run', '-i', c.pcap, '--parquet-dir', join(c.dir, 'out-l'), '--analyzer-config-dir', join(c.dir, 'feeds')],
    exit: 1,
    last: /^damselfly: incomplete \(exit 1\): analyzer threat-feed reported 1 error \(last: feed notgranted: cannot read '.*hosts\.txt': not one of analyzer threat-feed's own files/,
  },
  {
    name: 'analyzer test on an analyzer that does not compile: the compile error printed once',
    args: (c) => ['analyzer', 'test', join(c.dir, 'syntax', 'syntax.ts'), '--replay', c.pcap],
    exit: 1,
    last: /^damselfly: analyzer syntax did not start \(the error is above\)$/,
    check: (r) => assert.equal(r.stderr.match(/compile error at .*syntax\.ts:1:\d+/g)?.length, 1, r.stderr),
  },
  {
    name: 'analyzer test when events failed',
    args: (c) => ['analyzer', 'test', join(c.dir, 'broken', 'broken.ts'), '--replay', c.pcap],
    exit: 1,
    last: /^damselfly: incomplete \(exit 1\): (\d+ events failed in analyzer broken|analyzer broken is (backoff|disabled))/,
  },
  {
    name: 'analyzer test DIR (a folder analyzer), its source line named',
    args: (c) => ['analyzer', 'test', join(c.dir, 'broken'), '--replay', c.pcap],
    exit: 1,
    last: /^damselfly: incomplete \(exit 1\): .*broken.* \(at .*broken\/broken\.ts:1:\d+\)/,
  },
  {
    name: 'analyzer test DIR without an analyzer in it',
    args: (c) => ['analyzer', 'test', join(c.dir, 'syntax', '..'), '--replay', c.pcap],
    exit: 2,
    last: /^damselfly: error: .*: no analyzer in this folder \(expected .*\.ts or .*index\.ts\)$/,
  },
  {
    name: 'a dead broker: gives up after kafka.connect_timeout_s with one line',
    args: (c) => ['run', '-i', c.pcap, '--parquet-dir', join(c.dir, 'out-i'), '--no-builtin-analyzers', '--kafka', `127.0.0.1:${c.closedPort}`, '-c', join(c.dir, 'short-connect.yaml')],
    exit: 2,
    last: /^damselfly: error: kafka: cannot reach brokers 127\.0\.0\.1:\d+: .*ECONNREFUSED.* \(gave up after \d+ s\)$/,
  },
  {
    name: 'no alert output configured: alerts go beside the Parquet and the summary says where',
    args: (c) => ['run', '-i', c.pcap, '--parquet-dir', join(c.dir, 'out-j')],
    exit: 0,
    last: /^summary: .*alerts=(\d+) alerts_file=.*out-j\/alerts\.jsonl /,
    check: (r, c) => {
      const n = Number(/ alerts=(\d+) /.exec(r.stdout + r.stderr)![1]);
      assert.ok(n > 0, 'the capture raises alerts');
      const lines = readFileSync(join(c.dir, 'out-j', 'alerts.jsonl'), 'utf8').trim().split('\n');
      assert.equal(lines.length, n, 'every alert is in the default file');
      assert.equal(JSON.parse(lines[0]!).type, 'alert');
    },
  },
  {
    name: '--alerts-stdout: stdout is pure JSONL, the summary goes to stderr',
    args: (c) => ['run', '-i', c.pcap, '--parquet-dir', join(c.dir, 'out-k'), '--alerts-stdout', '-c', join(c.dir, 'fast-progress.yaml')],
    exit: 0,
    last: /^summary: .*alerts=\d+/,
    check: (r) => {
      assert.match(r.stderr, /^progress: file 1\/1 packets=/m, 'progress was on (every 10 ms)');
      const lines = r.stdout.trim().split('\n');
      assert.ok(lines.length > 0);
      for (const l of lines) assert.equal(JSON.parse(l).type, 'alert', `not an alert line: ${l.slice(0, 80)}`);
    },
  },
];

describe('exit codes and last lines', { timeout: 600_000 }, () => {
  const t = tempDir();
  const ctx: Ctx = { dir: t.dir, pcap: join(t.dir, 'mix.pcap'), closedPort: 0 };
  before(async () => {
    await generateCapture({ out: ctx.pcap, packets: 60_000, seed: 5, truth: false });
    writeFileSync(join(t.dir, 'other.pcap'), emptyPcap());
    writeFileSync(join(t.dir, 'notes.txt'), 'not a capture\n');
    writeFileSync(join(t.dir, 'empty.pcap'), '');
    writeFileSync(join(t.dir, 'one-attempt.yaml'), 'alerts:\n  webhook_attempts: 1\n');
    writeFileSync(join(t.dir, 'short-connect.yaml'), 'kafka:\n  connect_timeout_s: 2\n');
    writeFileSync(join(t.dir, 'fast-progress.yaml'), 'output:\n  progress_s: 0.01\n');
    mkdirSync(join(t.dir, 'feeds'));
    writeFileSync(join(t.dir, 'hosts.txt'), '10.0.0.1\n');
    writeFileSync(join(t.dir, 'feeds', 'threat-feed.yaml'), `feeds:\n  - { source: ${join(t.dir, 'hosts.txt')}, format: ip, name: notgranted }\n`);
    mkdirSync(join(t.dir, 'broken'));
    writeFileSync(join(t.dir, 'broken', 'broken.ts'), 'export function flow(e: any) { return e.nosuch.x; }\n');
    mkdirSync(join(t.dir, 'syntax'));
    writeFileSync(join(t.dir, 'syntax', 'syntax.ts'), 'export function flow(e: any { \n');
    ctx.closedPort = await closedPort();
  });
  after(() => t.cleanup());

  for (const c of CASES) {
    it(c.name, () => {
      const r = runCli(c.args(ctx), { timeoutMs: 120_000 });
      assert.equal(r.error, undefined, `ran to the end (${String(r.error)})`);
      const last = lastLine(r.stderr);
      assert.equal(r.status, c.exit, `exit ${r.status}, stderr:\n${r.stderr.slice(-3000)}`);
      assert.match(last, c.last, `last line: ${last}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      c.check?.(r, ctx);
    });
  }
});
