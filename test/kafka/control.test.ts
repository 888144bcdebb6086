// The end-of-input protocol over the control topic (what `--until-end` waits on): producersEnded
// resolves after the begin/end of every running producer of its topics, ignores producers that
// began and ended before it was called (history) and producers of other topics, and waits for a
// producer that begins later.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '@platformatic/kafka';
import { topicFor } from '../../streams/events/table.js';
import { KafkaTransport } from '../../streams/kafka/index.js';
import { exitSafetyNet, sleep, startBroker, uniquePrefix, until, type Broker } from './harness.js';
import { flowBatch } from './events.js';

/** 'resolved' if `p` settles within `ms`, else 'pending'. */
async function state(p: Promise<unknown>, ms: number): Promise<'resolved' | 'pending'> {
  return Promise.race([p.then(() => 'resolved' as const), sleep(ms).then(() => 'pending' as const)]);
}

describe('kafka control topic (real broker)', { timeout: 600_000 }, () => {
  let broker: Broker;
  const transports: KafkaTransport[] = [];
  const make = (): KafkaTransport => {
    const t = new KafkaTransport({ brokers: [broker.bootstrap], partitions: 2 });
    transports.push(t);
    return t;
  };
  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    for (const t of transports) await t.close().catch(() => undefined);
    await broker?.stop();
    exitSafetyNet();
  });

  it('producersEnded: resolves after two producers ended, ignores history and other topics, waits for a later producer', async () => {
    const prefix = uniquePrefix('ctl');
    const flows = topicFor('flow', prefix);
    const dns = topicFor('dns', prefix);
    const [a, b, c, d, e, f] = [make(), make(), make(), make(), make(), make()];

    // Two sensors running when the consumer starts waiting.
    const ann = await a.announce('sensor', 'sensor-a', [flows, dns]);
    const bnn = await b.announce('sensor', 'sensor-b', [flows]);
    await a.publish(flows, flowBatch(10, 2, 'sensor-a'));
    const ended = c.producersEnded([flows]);
    ended.catch(() => undefined);
    assert.equal(await state(ended, 2000), 'pending', 'both sensors still running');
    assert.equal(await a.flush(30_000), true);
    await ann.end();
    assert.equal(await state(ended, 2000), 'pending', 'sensor-b still running');
    await bnn.end();
    await bnn.end(); // idempotent
    await ended;

    // Both are history now: a new waiter does not resolve on them ...
    const later = d.producersEnded([flows]);
    later.catch(() => undefined);
    assert.equal(await state(later, 2500), 'pending', 'history is ignored');
    // ... nor on a producer of other topics ...
    const other = await f.announce('sensor', 'sensor-f', [dns]);
    await other.end();
    assert.equal(await state(later, 2000), 'pending', 'a producer of other topics is not waited for');
    // ... but on a producer that begins after the call, once it ends.
    const enn = await e.announce('analyze', 'worker-e', [flows]);
    assert.equal(await state(later, 2000), 'pending', 'the new producer is running');
    await enn.end();
    await later;

    // The end events say what each producer published; the throw-away groups are gone.
    const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [broker.bootstrap] });
    try {
      await until(async () => {
        const groups = await admin.listGroups();
        return ![...groups.keys()].some((g) => g.startsWith('damselfly-until-end-'));
      }, 30_000, 'throw-away groups deleted');
    } finally {
      await admin.close();
    }
    const seen: { producer: string; action: string; events: Record<string, number> | undefined }[] = [];
    const r = make();
    await r.subscribe(topicFor('control', prefix), {
      group: 'reader',
      onControl: (ev) => void seen.push({ producer: ev.producer, action: ev.action, events: ev.events }),
    }, async () => undefined);
    await until(() => seen.length === 8, 30_000, '8 control events');
    const endOfA = seen.find((s) => s.producer === a.id && s.action === 'end')!;
    assert.deepEqual(endOfA.events, { [flows]: 20, [dns]: 0 });
    assert.deepEqual(seen.filter((s) => s.action === 'begin').map((s) => s.producer).sort(), [a.id, b.id, f.id, e.id].sort());
  });
});
