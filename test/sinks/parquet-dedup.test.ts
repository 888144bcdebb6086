// The Parquet sink's (flowid, seq) filter: exact for UUID flow ids (any digit differing is another
// key), seq part of the key, forgets on delete, remembers at least capacity/2 recent keys, and
// handles flow ids that are not UUIDs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowKeyFilter } from '../../sinks/parquet/dedup.js';
import type { StringData } from '../../streams/events/columns.js';

function col(ids: string[]): StringData {
  const offsets = new Int32Array(ids.length + 1);
  ids.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length));
  return { data: ids.join(''), offsets };
}

const uuid = (k: number, pos = 35): string => {
  const base = '6f1c2a3e-0b7d-4c1a-9e2f-000000000000'.split('');
  let x = k;
  for (let p = pos; x > 0; p--) {
    if (base[p] === '-') continue;
    base[p] = '0123456789abcdef'[x % 16]!;
    x = Math.floor(x / 16);
  }
  return base.join('');
};

test('UUIDs that differ in any hex digit, or the same flow with another seq, are different keys', () => {
  const f = new FlowKeyFilter(1_000_000);
  const ids = col([uuid(1), uuid(2), uuid(1, 7), uuid(1, 20), uuid(1)]);
  assert.equal(f.add(ids, 0, 0), true);
  assert.equal(f.add(ids, 1, 0), true, 'last digit differs');
  assert.equal(f.add(ids, 2, 0), true, 'a digit of the first group differs');
  assert.equal(f.add(ids, 3, 0), true, 'a digit of the fourth group differs');
  assert.equal(f.add(ids, 4, 0), false, 'same id, same seq: a duplicate');
  assert.equal(f.add(ids, 4, 1), true, 'same id, next seq');
  assert.equal(f.add(ids, 0, 2 ** 28 + 5), true, 'huge seq (text key)');
  assert.equal(f.add(ids, 0, 2 ** 28 + 5), false);
});

test('delete forgets a key; ids that are not UUIDs work too', () => {
  const f = new FlowKeyFilter(1000);
  const ids = col([uuid(9), 'flow-a', 'FLOW-A', uuid(9).toUpperCase()]);
  assert.equal(f.add(ids, 0, 3), true);
  f.delete(ids, 0, 3);
  assert.equal(f.add(ids, 0, 3), true, 'forgotten, so taken again');
  assert.equal(f.add(ids, 1, 0), true);
  assert.equal(f.add(ids, 1, 0), false);
  assert.equal(f.add(ids, 2, 0), true, 'text keys are case sensitive');
  assert.equal(f.add(ids, 3, 3), false, 'hex digits in upper case are the same UUID');
});

test('many keys: each is seen once; at least capacity/2 recent ones are remembered', () => {
  const n = 200_000;
  const ids = col(Array.from({ length: n }, (_, k) => uuid(k * 7919)));
  const f = new FlowKeyFilter(2 * n);
  for (let i = 0; i < n; i++) assert.equal(f.add(ids, i, 0), true);
  for (let i = 0; i < n; i += 97) assert.equal(f.add(ids, i, 0), false);
  const small = new FlowKeyFilter(1000);
  for (let i = 0; i < 3000; i++) small.add(ids, i, 0);
  for (let i = 2500; i < 3000; i++) assert.equal(small.add(ids, i, 0), false, `recent key ${i} remembered`);
  assert.equal(small.add(ids, 0, 0), true, 'an old key beyond the capacity is forgotten');
});
