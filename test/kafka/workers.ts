// Child-process roles for the failure tests (run as `node workers.js <role> ...`):
//   consume <brokers> <topic> <group> <outFile> <delayMs>: a consumer worker; each batch is
//     "processed" (delayMs) then its (flowid, seq) pairs appended to outFile, then committed.
//     Prints `assigned` once it owns partitions.
//   publish <brokers> <topic> <count>: publishes `count` flow events, flushes, closes, exits 0.
import { appendFileSync } from 'node:fs';
import type { EventBatch } from '../../streams/events/batch.js';
import { KafkaTransport } from '../../streams/kafka/index.js';
import { formatError } from '../../streams/errors.js';
import { flowBatch } from './events.js';

const [role, brokers, topic, ...rest] = process.argv.slice(2);

async function consume(group: string, outFile: string, delayMs: number): Promise<void> {
  const t = new KafkaTransport({ brokers: [brokers!], sessionTimeoutMs: 6000 });
  let announced = false;
  const sub = await t.subscribe(topic!, { group, maxBatch: 50 }, async (batch: EventBatch<'flow'>) => {
    if (!announced) {
      announced = true;
      process.stdout.write('consuming\n');
    }
    await new Promise((r) => setTimeout(r, delayMs));
    let lines = '';
    for (const e of batch) lines += `${e.flowid} ${e.seq}\n`;
    appendFileSync(outFile, lines);
  });
  process.stdout.write('subscribed\n');
  const stop = () => void t.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  await sub.done;
}

async function publish(count: number): Promise<void> {
  const t = new KafkaTransport({ brokers: [brokers!], backoff: { initialDelayMs: 200, maxDelayMs: 1000 } });
  await t.publish(topic!, flowBatch(count / 10, 10, 'late'));
  if (!(await t.flush(120_000))) throw new Error('flush timed out');
  const s = t.stats().topics[topic!]!;
  process.stdout.write(`published=${s.published} sent=${s.sent} shed=${s.shed}\n`);
  await t.close();
}

// `node --test dist/test/` also runs every helper file under test/: without a role this is a no-op.
if (role === 'consume' || role === 'publish') {
  const run = role === 'consume' ? consume(rest[0]!, rest[1]!, Number(rest[2])) : publish(Number(rest[0]));
  run.then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`error: ${formatError(e)}\n`);
      process.exit(1);
    },
  );
}
