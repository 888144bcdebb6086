import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedTransport } from '../../streams/embedded/index.js';
import { SubscriptionFailedError, TransportClosedError, HandlerError } from '../../streams/errors.js';


interface Ev {
  type: 'test';
  n: number;
}

function events(from: number, count: number): Ev[] {
  const out: Ev[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { type: 'test', n: from + i };
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('events arrive in publish order, in batches no larger than maxBatch', async () => {
  const t = new EmbeddedTransport({ maxQueued: 500 });
  const got: number[] = [];
  let biggest = 0;
  await t.subscribe<Ev[]>('x', { group: 'g', maxBatch: 64 }, async (b) => {
    biggest = Math.max(biggest, b.length);
    for (const e of b) got.push(e.n);
  });
  let n = 0;
  for (let i = 0; n < 10_000; i++) {
    const size = Math.min(1 + ((i * 37) % 300), 10_000 - n);
    await t.publish('x', events(n, size));
    n += size;
  }
  await t.close();
  assert.equal(got.length, 10_000);
  for (let i = 0; i < got.length; i++) assert.equal(got[i], i, `position ${i}`);
  assert.ok(biggest <= 64 && biggest > 1, `biggest batch ${biggest}`);
  const s = t.stats().topics['x']!;
  assert.equal(s.published, 10_000);
  assert.equal(s.delivered, 10_000);
  assert.equal(s.queued, 0);
});

test('backpressure: a slow consumer blocks the producer and the queue never exceeds its bound', async () => {
  const bound = 100;
  const t = new EmbeddedTransport({ maxQueued: bound });
  let delivered = 0;
  let maxSeenQueued = 0;
  await t.subscribe<Ev[]>('x', { group: 'slow', maxBatch: 10 }, async (b) => {
    maxSeenQueued = Math.max(maxSeenQueued, t.stats().topics['x']!.queued);
    await sleep(2);
    delivered += b.length;
  });
  let published = 0;
  let blockedCalls = 0;
  for (let i = 0; i < 20; i++) {
    const before = delivered;
    await t.publish('x', events(published, 50));
    published += 50;
    if (delivered > before) blockedCalls++; // the consumer made progress while we waited
    // Accepted but not yet delivered events are held in memory: never more than the bound.
    assert.ok(published - delivered <= bound, `held ${published - delivered} > ${bound}`);
  }
  await t.close();
  const s = t.stats().topics['x']!;
  assert.ok(s.blockedPublishes >= 10, `blockedPublishes ${s.blockedPublishes}`);
  assert.ok(blockedCalls >= 10, `producer waited on the consumer only ${blockedCalls} times`);
  assert.ok(s.maxQueued <= bound && s.maxQueued >= bound - 50, `maxQueued ${s.maxQueued}`);
  assert.ok(maxSeenQueued <= bound);
  assert.equal(delivered, 1000);
});

test('a batch larger than the bound is accepted piecewise, in order', async () => {
  const t = new EmbeddedTransport({ maxQueued: 7 });
  const got: number[] = [];
  await t.subscribe<Ev[]>('x', { group: 'g', maxBatch: 3 }, async (b) => {
    for (const e of b) got.push(e.n);
  });
  await Promise.all([t.publish('x', events(0, 100)), t.publish('x', events(100, 5))]);
  await t.close();
  assert.deepEqual(got, events(0, 105).map((e) => e.n));
  assert.ok(t.stats().topics['x']!.maxQueued <= 7);
});

test('close() delivers everything already accepted, waiting publishes included', async () => {
  const t = new EmbeddedTransport({ maxQueued: 50 });
  let got = 0;
  await t.subscribe<Ev[]>('x', { group: 'g', maxBatch: 25 }, async (b) => {
    await sleep(1);
    got += b.length;
  });
  const pubs = [t.publish('x', events(0, 40)), t.publish('x', events(40, 400))];
  await t.close();
  await Promise.all(pubs);
  assert.equal(got, 440);
  await assert.rejects(t.publish('x', events(0, 1)), TransportClosedError);
  await assert.rejects(t.subscribe('x', { group: 'late' }, async () => undefined), TransportClosedError);
  const s = t.stats();
  assert.equal(s.closed, true);
  assert.equal(s.topics['x']!.delivered, 440);
  assert.equal(s.topics['x']!.undelivered, 0);
});

test('every consumer group gets every event', async () => {
  const t = new EmbeddedTransport({ maxQueued: 64 });
  const a: number[] = [];
  const b: number[] = [];
  await t.subscribe<Ev[]>('x', { group: 'a', maxBatch: 16 }, async (batch) => {
    for (const e of batch) a.push(e.n);
  });
  await t.subscribe<Ev[]>('x', { group: 'b', maxBatch: 100 }, async (batch) => {
    await sleep(1);
    for (const e of batch) b.push(e.n);
  });
  for (let i = 0; i < 20; i++) await t.publish('x', events(i * 50, 50));
  await t.close();
  const want = events(0, 1000).map((e) => e.n);
  assert.deepEqual(a, want);
  assert.deepEqual(b, want);
  const s = t.stats().topics['x']!;
  assert.equal(s.groups['a']!.delivered, 1000);
  assert.equal(s.groups['b']!.delivered, 1000);
  assert.equal(s.delivered, 2000);
});

test('two subscribers in one group share the events: each event once', async () => {
  const t = new EmbeddedTransport({ maxQueued: 64 });
  const seen = new Map<number, number>();
  const per = [0, 0];
  for (const i of [0, 1]) {
    await t.subscribe<Ev[]>('x', { group: 'g', maxBatch: 8 }, async (batch) => {
      await sleep(1);
      per[i]! += batch.length;
      for (const e of batch) seen.set(e.n, (seen.get(e.n) ?? 0) + 1);
    });
  }
  for (let i = 0; i < 10; i++) await t.publish('x', events(i * 40, 40));
  await t.close();
  assert.equal(seen.size, 400);
  for (const c of seen.values()) assert.equal(c, 1);
  assert.ok(per[0]! > 0 && per[1]! > 0, `split ${per.join('/')}`);
});

test('a throwing handler is retried with the same batch; nothing is lost or reordered', async () => {
  const t = new EmbeddedTransport();
  const got: number[] = [];
  const reported: HandlerError[] = [];
  let failuresLeft = 2;
  await t.subscribe<Ev[]>(
    'x',
    {
      group: 'g',
      maxBatch: 10,
      retry: { initialDelayMs: 1 },
      onError: (err) => reported.push(err as HandlerError),
    },
    async (b) => {
      if (b.some((e) => e.n === 25) && failuresLeft > 0) {
        failuresLeft--;
        throw new Error('disk full');
      }
      for (const e of b) got.push(e.n);
    },
  );
  await t.publish('x', events(0, 50));
  await t.close();
  assert.deepEqual(got, events(0, 50).map((e) => e.n));
  assert.equal(reported.length, 2);
  assert.ok(reported[0] instanceof HandlerError);
  assert.equal(reported[0]!.attempt, 1);
  assert.equal(reported[1]!.attempt, 2);
  assert.match(String((reported[0]!.cause as Error).message), /disk full/);
  assert.equal(t.stats().topics['x']!.errors, 2);
});

test('a handler failing every attempt fails its group visibly; other groups and the producer go on', async () => {
  const t = new EmbeddedTransport({ maxQueued: 20 });
  let attempts = 0;
  const bad = await t.subscribe<Ev[]>('x', { group: 'bad', maxBatch: 5, retry: { maxAttempts: 3, initialDelayMs: 1 } }, async () => {
    attempts++;
    throw new Error('boom');
  });
  let good = 0;
  await t.subscribe<Ev[]>('x', { group: 'good', maxBatch: 5 }, async (b) => {
    good += b.length;
  });
  await t.publish('x', events(0, 200)); // 10x the bound: would hang if the failed group kept blocking
  await assert.rejects(bad.done, (e: unknown) => e instanceof SubscriptionFailedError && /boom/.test(String((e as Error).cause)));
  await assert.rejects(t.close(), SubscriptionFailedError);
  assert.equal(attempts, 3);
  assert.equal(good, 200);
  const s = t.stats().topics['x']!;
  assert.equal(s.groups['bad']!.failed, true);
  assert.equal(s.groups['bad']!.errors, 3);
  assert.ok(s.groups['bad']!.undelivered >= 5, 'failed group counts what it will never get');
  assert.equal(s.groups['bad']!.delivered + s.groups['bad']!.undelivered, 200);
});

test('events published before anyone subscribes are retained (bounded) and go to the first group', async () => {
  const t = new EmbeddedTransport({ maxQueued: 30 });
  await t.publish('x', events(0, 30));
  let resolved = false;
  const blocked = t.publish('x', events(30, 10)).then(() => {
    resolved = true;
  });
  await sleep(5);
  assert.equal(resolved, false, 'publish beyond the bound waits even without subscribers');
  assert.equal(t.stats().topics['x']!.queued, 30);
  const got: number[] = [];
  await t.subscribe<Ev[]>('x', { group: 'g' }, async (b) => {
    for (const e of b) got.push(e.n);
  });
  await blocked;
  await t.close();
  assert.deepEqual(got, events(0, 40).map((e) => e.n));
});

test('close() does not hang on a topic nobody subscribed: waiting publishes are refused, retained events counted', async () => {
  const t = new EmbeddedTransport({ maxQueued: 5 });
  await t.publish('orphan', events(0, 5));
  const waiting = t.publish('orphan', events(5, 5));
  await t.close();
  await assert.rejects(waiting, TransportClosedError);
  const s = t.stats().topics['orphan']!;
  assert.equal(s.published, 5);
  assert.equal(s.undelivered, 5);
});

test('subscription.close() stops one subscriber; its group leaves and later events go to the others', async () => {
  const t = new EmbeddedTransport();
  let a = 0;
  let b = 0;
  const sa = await t.subscribe<Ev[]>('x', { group: 'a' }, async (x) => {
    a += x.length;
  });
  await t.subscribe<Ev[]>('x', { group: 'b' }, async (x) => {
    b += x.length;
  });
  await t.publish('x', events(0, 10));
  await sleep(1);
  await sa.close();
  await sa.done;
  await t.publish('x', events(10, 10));
  await t.close();
  assert.equal(a, 10);
  assert.equal(b, 20);
});

test('throughput: 1M events through one topic and one group (printed, not asserted)', async () => {
  const t = new EmbeddedTransport();
  let got = 0;
  let last = -1;
  let ordered = true;
  await t.subscribe<Ev[]>('x', { group: 'g' }, async (b) => {
    if (b[0]!.n !== last + 1) ordered = false;
    last = b[b.length - 1]!.n;
    got += b.length;
  });
  const total = 1_000_000;
  const batch = 1000;
  const batches: Ev[][] = [];
  for (let i = 0; i < total; i += batch) batches.push(events(i, batch));
  const t0 = process.hrtime.bigint();
  for (const b of batches) await t.publish('x', b);
  await t.close();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  assert.equal(got, total);
  assert.ok(ordered);
  console.log(`# embedded transport: ${total} events in ${s.toFixed(3)} s = ${Math.round(total / s).toLocaleString('en-US')} events/s`);
});
