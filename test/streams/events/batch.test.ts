// EventBatch: rows in, columns, views and rows out for every event type; nulls, lists, enums,
// slicing without copying, lazy views, and refusal of malformed columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBatch } from '../../../streams/events/batch.js';
import { EVENT_TYPES, EVENT_TYPE_NAMES, type EventType } from '../../../streams/events/table.js';
import type { StringData } from '../../../streams/events/columns.js';
import { BatchFormatError } from '../../../streams/errors.js';
import { flowSample, samples } from './samples.js';

test('every event type: rows → columns → rows, views and JSON give the same event', () => {
  const all = samples();
  for (const type of EVENT_TYPE_NAMES) {
    const e = all[type];
    const b = EventBatch.fromRows(type, [e, e]);
    assert.equal(b.length, 2);
    assert.deepEqual(b.rows(), [e, e], `${type} rows`);
    const v = b.get(1) as unknown as Record<string, unknown>;
    for (const [k, x] of Object.entries(e)) assert.deepEqual(v[k], x, `${type}.${k} through the view`);
    assert.deepEqual(JSON.parse(JSON.stringify(v)), e, `${type} view as JSON`);
    assert.deepEqual([...b].map((x) => (x as unknown as { toJSON(): unknown }).toJSON()), [e, e], `${type} iteration`);
    assert.deepEqual(Object.keys(b.cols), EVENT_TYPES[type].columns.map((c) => c.name), `${type} columns in table order`);
  }
});

test('nullable columns: absent values are null (undefined in views, absent in rows), present ones kept', () => {
  const withNdpi = samples().flow;
  const plain = flowSample(2);
  const b = EventBatch.fromRows('flow', [plain, withNdpi]);
  assert.equal(b.get(0).ndpi_appid, undefined);
  assert.equal(b.get(0).ndpi_ja4, plain.ndpi_ja4);
  assert.equal(b.get(1).ndpi_appid, 'TLS.YouTube');
  assert.equal(b.get(1).ndpi_risk_score, 0, 'a zero is a value, not a null');
  assert.equal(b.has('ndpi_appid', 0), false);
  assert.equal(b.has('ndpi_appid', 1), true);
  assert.equal('ndpi_appid' in b.rows()[0]!, false);
  assert.deepEqual(b.rows()[1], withNdpi);
});

test('64-bit columns hold exact integers below 2^53; enums read as their label', () => {
  const big = flowSample(3, { sbytes: 2 ** 53 - 1, stime: 1_800_000_000_123_456, kind: 'start' });
  const b = EventBatch.fromRows('flow', [big]);
  assert.equal(b.get(0).sbytes, 2 ** 53 - 1);
  assert.equal(b.get(0).stime, 1_800_000_000_123_456);
  assert.equal(b.get(0).kind, 'start');
  assert.equal((b.cols.kind as Uint8Array)[0], 0);
  assert.throws(() => EventBatch.fromRows('flow', [{ ...big, kind: 'middle' }]), (e: unknown) => e instanceof BatchFormatError && /kind: 'middle'/.test(e.message));
});

test('slices share memory and keep strings and lists of their rows', () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({
    ...samples().dns,
    query: `q${i}.example.com`,
    answers: Array.from({ length: i % 4 }, (_, k) => ({ name: `q${i}.example.com`, type: 'A', ttl: k, data: `10.0.${i}.${k}` })),
  }));
  const b = EventBatch.fromRows('dns', rows);
  const s = b.slice(37, 61);
  assert.equal(s.length, 24);
  assert.deepEqual(s.rows(), rows.slice(37, 61));
  assert.equal((s.cols.query as StringData).data, (b.cols.query as StringData).data, 'string data shared, not copied');
  assert.equal((s.cols.sport as Uint16Array).buffer, (b.cols.sport as Uint16Array).buffer, 'numeric column shared');
  assert.deepEqual(s.slice(3, 5).rows(), rows.slice(40, 42), 'a slice of a slice');
  assert.equal(b.slice(0, b.length), b);
  assert.equal(b.slice(90, 200).length, 10);
});

test('views decode only the fields read', () => {
  const b = EventBatch.fromRows('flow', [flowSample(1)]);
  const cols = { ...b.cols };
  Object.defineProperty(cols, 'saddr', { get: () => { throw new Error('saddr was decoded'); }, enumerable: true });
  const lazy = new EventBatch('flow', 1, cols, b.valid);
  const v = lazy.get(0);
  assert.equal(v.dport, 443);
  assert.equal(v.daddr, '2001:db8::1');
  assert.throws(() => v.saddr, /saddr was decoded/);
});

test('check() accepts what fromRows builds and refuses malformed columns with one clear message', () => {
  const good = EventBatch.fromRows('dns', [samples().dns]);
  assert.equal(EventBatch.check(good).length, 1);
  const bad = (over: Record<string, unknown>, re: RegExp, type: string = 'dns'): void => {
    assert.throws(() => EventBatch.check({ type, length: 1, cols: { ...good.cols }, valid: {}, ...over }), (e: unknown) => e instanceof BatchFormatError && re.test(e.message));
  };
  bad({ type: 'smtp' }, /unknown event type 'smtp'/);
  bad({ v: 9 }, /schema version 9: this build reads version 1/);
  const { query: _q, ...noQuery } = good.cols;
  bad({ cols: noQuery }, /dns batch: column query missing/);
  bad({ cols: { ...good.cols, sport: new Uint32Array(1) } }, /dns\.sport: expected Uint16Array of 1/);
  bad({ cols: { ...good.cols, query: { data: 'abc', offsets: Int32Array.of(0, 9) } } }, /dns\.query: offsets run past the data/);
  bad({ cols: { ...good.cols, query: { data: 'abc', offsets: Int32Array.of(2, 1) } } }, /dns\.query: offsets go backwards/);
  bad({ cols: { ...good.cols, answers: { offsets: Int32Array.of(0, 5), items: (good.cols.answers as { items: unknown }).items } } }, /list offsets run past the items/);
  const flow = EventBatch.fromRows('flow', [flowSample(1)]);
  assert.throws(() => EventBatch.check({ type: 'flow', length: 1, cols: { ...flow.cols, kind: Uint8Array.of(7) } }), /flow\.kind: code 7/);
  assert.throws(() => EventBatch.check({ type: 'flow', length: 1, cols: flow.cols, valid: { saddr: Uint8Array.of(1) } }), /flow\.saddr: bad validity \(column is not nullable\)/);
});

test('rows that are not objects are refused', () => {
  for (const type of ['flow', 'alert'] as EventType[]) {
    assert.throws(() => EventBatch.fromRows(type, [42]), (e: unknown) => e instanceof BatchFormatError && /event 0: not an object/.test(e.message));
  }
});
