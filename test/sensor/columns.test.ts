// The native sensor's column lists (sensor/native/src/columns.h) and the TypeScript event-type
// table (streams/events/table.ts) describe the same batches: same names, order, types and
// nullability. Nothing is positional across the boundary, but a column one side forgot would be
// missing on the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnListDifferences, loadNative, type NativeColumnList } from '../../sensor/src/native.js';
import { SENSOR_EVENT_TYPES } from '../../streams/events/table.js';

const native = (loadNative() as unknown as { columns(): Record<string, NativeColumnList> }).columns();

test('C++ and TypeScript column lists agree for every event type the sensor emits', () => {
  assert.deepEqual(Object.keys(native).sort(), [...SENSOR_EVENT_TYPES].sort());
  assert.deepEqual(columnListDifferences(native), []);
  assert.equal(native.flow!.length, 60, 'ts kind seq + 45 community + 9 nDPI + 3 QUIC columns');
});

test('a disagreement is found and named (renamed, retyped, dropped or reordered column)', () => {
  const copy = (): Record<string, NativeColumnList> => JSON.parse(JSON.stringify(native)) as Record<string, NativeColumnList>;
  const renamed = copy();
  renamed.flow![5]![0] = 'flow_id';
  assert.match(columnListDifferences(renamed).join('\n'), /flow column 5: table \["obname".*native \["flow_id"/);
  const retyped = copy();
  retyped.tls![6]![1] = 'UInt32';
  assert.match(columnListDifferences(retyped).join('\n'), /tls column 6/);
  const dropped = copy();
  dropped.http!.pop();
  assert.match(columnListDifferences(dropped).join('\n'), /http column 12: table \["status","UInt16",false\], native \(none\)/);
  const answers = copy();
  (answers.dns![11]![3] as NativeColumnList)[2]![1] = 'UInt16';
  assert.match(columnListDifferences(answers).join('\n'), /dns column 11/);
});
