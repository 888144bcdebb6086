// Kafka batch compression by the streams addon (streams/kafka/compression.ts) against the broker's
// own Java clients: Java's console consumer reads the LZ4 and zstd record batches we produce, and we
// read what Java's console producer compresses. A real broker, the real tools (deploy/kafka jars).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { execFile } from 'node:child_process';
import { Admin, Consumer, Producer, stringDeserializer, stringSerializer } from '@platformatic/kafka';
import { installCompression } from '../../streams/kafka/compression.js';
import { exitSafetyNet, KAFKA_SH, startBroker, uniquePrefix, type Broker } from './harness.js';

function java(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [KAFKA_SH, 'classpath'], { encoding: 'utf8' }, (err, cp) => {
      if (err) return reject(err);
      const p = execFile('java', ['-Xmx256m', '-cp', cp.trim().split('\n').pop()!, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 }, (e, stdout, stderr) => {
        if (e) reject(new Error(`${args[0]} failed: ${e.message}\n${stderr}`));
        else resolve(stdout);
      });
      if (input !== undefined) p.stdin!.end(input);
    });
  });
}

/** Lines a compressor has something to do with: repeated words, and enough of them to span several 64 KiB LZ4 blocks per batch. */
function lines(codec: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `{"codec":"${codec}","i":${i},"query":"host-${i % 17}.example.com","pad":"${'ab'.repeat(200 + (i % 50))}"}`);
}

describe('kafka batch compression (real broker, Java clients)', { timeout: 600_000 }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startBroker();
    installCompression();
  });
  after(async () => {
    await broker?.stop();
    exitSafetyNet();
  });

  for (const codec of ['lz4', 'zstd'] as const) {
    it(`${codec}: Java's console consumer reads our record batches; we read the Java console producer's`, async () => {
      const ours = `${uniquePrefix(codec)}.ours`;
      const theirs = `${uniquePrefix(codec)}.theirs`;
      const admin = new Admin({ clientId: 'test-compression', bootstrapBrokers: [broker.bootstrap] });
      await admin.createTopics({ topics: [ours, theirs], partitions: 1, replicas: 1 });
      await admin.close();

      const sent = lines(codec, 400);
      const p = new Producer<string, Buffer, string, string>({
        clientId: 'test-compression', bootstrapBrokers: [broker.bootstrap], compression: codec,
        serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
      });
      try {
        // One send: one compressed record batch of all 400 records (~200 KB before compression).
        await p.send({ messages: sent.map((v) => ({ topic: ours, partition: 0, key: 'k', value: Buffer.from(v) })) });
      } finally {
        await p.close();
      }
      const read = await java(['org.apache.kafka.tools.consumer.ConsoleConsumer', '--bootstrap-server', broker.bootstrap, '--topic', ours, '--from-beginning', '--max-messages', String(sent.length), '--timeout-ms', '60000']);
      assert.deepEqual(read.trim().split('\n'), sent, 'Java reads every record of our batch, in order');

      const javaSent = lines(`${codec}-java`, 300);
      await java(['kafka.tools.ConsoleProducer', '--bootstrap-server', broker.bootstrap, '--topic', theirs, '--compression-codec', codec, '--batch-size', '1000000', '--timeout', '500'], `${javaSent.join('\n')}\n`);
      const c = new Consumer<string, Buffer, string, string>({
        clientId: 'test-compression', groupId: `g-${theirs}`, bootstrapBrokers: [broker.bootstrap], autocommit: false, maxWaitTime: 100,
        deserializers: { key: stringDeserializer, headerKey: stringDeserializer, headerValue: stringDeserializer },
      });
      const got: string[] = [];
      const stream = await c.consume({ topics: [theirs], mode: 'earliest' });
      try {
        for await (const m of stream) {
          got.push(m.value.toString());
          if (got.length >= javaSent.length) break;
        }
      } finally {
        await stream.close().catch(() => undefined);
        await c.close(true);
      }
      assert.deepEqual(got, javaSent, 'we read every record Java compressed, in order');
    });
  }
});
