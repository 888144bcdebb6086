// A broker configured for SASL_PLAINTEXT (started with `npm run kafka:start -- --sasl`): PLAIN and
// SCRAM-SHA-256 with the right credentials round-trip; a wrong password is refused with one clear
// error. Also checks the npm scripts' contract: the bootstrap address is the last line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaAuthError, KafkaTransport, type KafkaSaslOptions } from '../../streams/kafka/index.js';
import { formatError } from '../../streams/errors.js';
import { topicFor } from '../../streams/schema.js';
import { ROOT } from '../helpers.js';
import { exitSafetyNet, uniquePrefix, until } from './harness.js';
import { flowBatch } from './events.js';

function npm(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('npm', ['run', '--silent', ...args], { cwd: ROOT, timeout: 400_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`npm run ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('kafka SASL_PLAINTEXT broker', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'damselfly-kafka-sasl-'));
  let bootstrap = '';
  before(async () => {
    const out = await npm(['kafka:start', '--', '--dir', dir, '--sasl']);
    bootstrap = out.trim().split('\n').pop()!;
  });
  after(async () => {
    await npm(['kafka:stop', '--', '--dir', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    exitSafetyNet();
  });

  it('npm run kafka:start prints host:port as its last line', () => {
    assert.match(bootstrap, /^127\.0\.0\.1:\d+$/);
  });

  for (const mechanism of ['plain', 'scram-sha-256'] as const) {
    it(`accepts the right credentials (${mechanism})`, async () => {
      const sasl: KafkaSaslOptions = { mechanism, username: 'damselfly', password: 'damselfly-secret' };
      const topic = topicFor('flow', uniquePrefix(`sasl-${mechanism}`));
      const t = new KafkaTransport({ brokers: [bootstrap], sasl, partitions: 2 });
      let n = 0;
      try {
        await t.subscribe(topic, { group: 'sasl' }, async (b) => {
          n += b.length;
        });
        await t.publish(topic, flowBatch(10, 10));
        await until(() => n >= 100, 60_000, '100 events over SASL');
        assert.equal(n, 100);
      } finally {
        await t.close();
      }
    });
  }

  it('refuses a wrong password with one clear error, without retrying forever', async () => {
    const t = new KafkaTransport({ brokers: [bootstrap], sasl: { mechanism: 'scram-sha-256', username: 'damselfly', password: 'wrong' } });
    const started = Date.now();
    try {
      await assert.rejects(t.connect(), (e: unknown) => {
        assert.ok(e instanceof KafkaAuthError, `KafkaAuthError, got ${String(e)}`);
        const line = formatError(e);
        assert.ok(!line.includes('\n'), 'one line');
        assert.match(line, /^kafka: authentication to 127\.0\.0\.1:\d+ failed: .*(SASL|[Aa]uthentication)/);
        return true;
      });
      assert.ok(Date.now() - started < 30_000, 'fails fast');
    } finally {
      await t.close();
    }
  });
});
