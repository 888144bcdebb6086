// The start gate holds a source's first batches (within its bound) until the consumers are up,
// then publishes them and everything after in the order emitted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StartGate } from '../../pipeline/gate.js';
import { EventBatch } from '../../streams/events/batch.js';
import { flowSample } from '../streams/events/samples.js';

const batch = (n: number, from: number): EventBatch => EventBatch.fromRows('flow', Array.from({ length: n }, (_, i) => flowSample(from + i)));

test('held until release within the bound; past it the source waits; order is kept', async () => {
  const out: number[] = [];
  const gate = new StartGate(async (b) => {
    for (const e of (b as EventBatch<'flow'>)) out.push(e.sbytes - 2 ** 40);
  }, 10);
  await gate.emit(batch(4, 0));
  await gate.emit(batch(6, 4));
  assert.deepEqual(out, [], 'nothing published before release');
  let third = false;
  const waiting = gate.emit(batch(3, 10)).then(() => (third = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(third, false, 'a batch beyond the bound waits for the release');
  await gate.release();
  await waiting;
  await gate.emit(batch(2, 13));
  assert.deepEqual(out, Array.from({ length: 15 }, (_, i) => i));
});
