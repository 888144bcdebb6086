// Arrow IPC framing: round trips of every event type (nulls, lists, enums, non-ASCII text, empty,
// sliced and row-selected batches, 64-bit extremes, large batches), interop both ways with
// apache-arrow, and refusal of corrupt or foreign streams with a BatchFormatError of one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Builder } from 'flatbuffers';
import { Field, RecordBatch, Schema, Struct, Table, TimestampMicrosecond, Uint64, makeData, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { decodeArrow, encodeArrow } from '../../../streams/events/arrow.js';
import { framedSize, readFrame, schemaMessage, writeFrame, type ArrowSchema, type Frame } from '../../../streams/events/arrow-messages.js';
import { EventBatch } from '../../../streams/events/batch.js';
import type { StringData } from '../../../streams/events/columns.js';
import { EVENT_TYPES, EVENT_TYPE_NAMES, type EventType } from '../../../streams/events/table.js';
import { BatchFormatError, InvalidArgumentError } from '../../../streams/errors.js';
import { flowSample, samples } from './samples.js';
import { arrowTypeOf } from './apache-arrow-types.js';

function roundTrip<T extends EventType>(b: EventBatch<T>, rows?: Int32Array): EventBatch<T> {
  const d = decodeArrow(encodeArrow(b, rows), b.type);
  EventBatch.check(d);
  return d;
}

/** A BatchFormatError whose message matches `re` and was not the decoder's last-resort net. */
function refused(re: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof BatchFormatError, `expected a BatchFormatError, got ${String(e)}`);
    assert.match(e.message, re);
    assert.doesNotMatch(e.message, /unchecked/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

function dnsRows(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    ...samples().dns,
    query: `q${i}.example.com`,
    answers: Array.from({ length: i % 4 }, (_, k) => ({ name: `q${i}.example.com`, type: k % 2 ? 'AAAA' : 'A', ttl: 60 * k, data: `10.0.${i % 256}.${k}` })),
  }));
}

function flowRows(n: number): Record<string, unknown>[] {
  const kinds = ['start', 'update', 'end'] as const;
  return Array.from({ length: n }, (_, i) => {
    const f: Record<string, unknown> = { ...flowSample(i, { kind: kinds[i % 3]!, seq: i % 7 }) };
    if (i % 3 === 0) Object.assign(f, { ndpi_appid: 'TLS.YouTube', ndpi_category: 'Media', ndpi_risk_score: i, ndpi_risk_severity: i % 4, ndpi_risk_list: '' });
    if (i % 5 === 0) delete f.ndpi_ja4;
    return f;
  });
}

/** Walks the frames of a stream. */
function frames(bytes: Uint8Array): { start: number; f: Frame }[] {
  const out: { start: number; f: Frame }[] = [];
  for (let pos = 0, f = readFrame(bytes, 0); f; pos = f.next, f = readFrame(bytes, pos)) out.push({ start: pos, f });
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function framed(meta: Uint8Array): Uint8Array {
  const out = new Uint8Array(framedSize(meta));
  writeFrame(out, 0, meta);
  return out;
}

/** The stream with its schema message replaced by `edit` of it. */
function withSchema(bytes: Uint8Array, edit: (s: ArrowSchema) => void): Uint8Array {
  const [first] = frames(bytes);
  assert.equal(first!.f.header.kind, 'schema');
  const s = structuredClone((first!.f.header as { schema: ArrowSchema }).schema);
  edit(s);
  return concat(framed(schemaMessage(s)), bytes.subarray(first!.f.next));
}

test('every event type survives encode → decode, twice and empty', () => {
  const all = samples();
  for (const type of EVENT_TYPE_NAMES) {
    const b = EventBatch.fromRows(type, [all[type], all[type]]);
    const d = roundTrip(b);
    assert.equal(d.type, type);
    assert.equal(d.v, b.v);
    assert.deepEqual(d.rows(), b.rows(), `${type} rows`);
    const e = roundTrip(EventBatch.empty(type));
    assert.equal(e.length, 0, `${type} empty`);
    assert.deepEqual(e.rows(), []);
  }
});

test('nulls: a bitmap only where a column holds nulls; absent fields stay absent', () => {
  const rows = flowRows(50);
  const b = EventBatch.fromRows('flow', rows);
  const d = roundTrip(b);
  assert.deepEqual(d.rows(), b.rows());
  assert.equal(d.get(1).ndpi_appid, undefined);
  assert.equal(d.get(3).ndpi_appid, 'TLS.YouTube');
  assert.equal(d.get(0).ndpi_risk_score, 0, 'a zero is a value');
  assert.ok(d.valid.ndpi_appid, 'column with nulls has validity');
  assert.equal(d.valid.ndpi_ja3s, undefined, 'column without nulls has none');
  const t = tableFromIPC(encodeArrow(b));
  assert.equal(t.getChild('ndpi_appid')!.nullCount, 33);
  assert.equal(t.getChild('ndpi_ja3s')!.nullCount, 0);
  assert.equal(t.getChild('ndpi_ja3s')!.data[0]!.nullBitmap?.length ?? 0, 0, 'no bitmap written without nulls');
  const stats = EventBatch.fromRows('stats', [samples().stats, { ...samples().stats, analyzer: undefined, state: undefined, error: 'boom' }]);
  assert.deepEqual(roundTrip(stats).rows(), stats.rows());
});

test('lists of 0..n structs and of strings; enum labels', () => {
  const dns = EventBatch.fromRows('dns', dnsRows(40));
  assert.deepEqual(roundTrip(dns).rows(), dns.rows());
  const triggers = EventBatch.fromRows('trigger', [
    samples().trigger,
    { ...samples().trigger, hosts: [] },
    { ...samples().trigger, hosts: ['192.0.2.1', '192.0.2.2', '2001:db8::9'], action: 'remove' },
  ]);
  assert.deepEqual(roundTrip(triggers).rows(), triggers.rows());
  const flows = EventBatch.fromRows('flow', flowRows(6));
  assert.deepEqual([...roundTrip(flows)].map((f) => f.kind), ['start', 'update', 'end', 'start', 'update', 'end']);
});

test('non-ASCII text round-trips as UTF-8 on the wire', () => {
  const reason = 'café ☕ 𝔘';
  const alerts = EventBatch.fromRows('alert', [
    { ...samples().alert, reason, factors: { note: 'naïve ✓', emoji: '😀' } },
    samples().alert,
    { ...samples().alert, reason: '' },
  ]);
  const bytes = encodeArrow(alerts);
  const d = decodeArrow(bytes, 'alert');
  assert.deepEqual(d.rows(), alerts.rows());
  assert.equal(d.get(0).reason, reason);
  assert.deepEqual((d.cols.reason as StringData).offsets, Int32Array.of(0, reason.length, reason.length + samples().alert.reason.length, reason.length + samples().alert.reason.length));
  assert.ok(Buffer.from(bytes).includes(Buffer.from(reason, 'utf8')), 'UTF-8 bytes on the wire');
  const t = tableFromIPC(bytes);
  assert.equal(t.getChild('reason')!.get(0), reason);
  assert.deepEqual(JSON.parse(t.getChild('factors')!.get(0) as string), { note: 'naïve ✓', emoji: '😀' });
  assert.deepEqual(roundTrip(alerts, Int32Array.of(2, 0, 0)).rows(), [2, 0, 0].map((i) => alerts.rows()[i]));
});

test('sliced batches and row selections (repeated, reversed) write only those rows', () => {
  const dnsAll = dnsRows(60);
  const dns = EventBatch.fromRows('dns', dnsAll);
  assert.deepEqual(roundTrip(dns.slice(13, 41)).rows(), dns.rows().slice(13, 41));
  assert.deepEqual(roundTrip(dns.slice(20, 20)).rows(), []);
  const flows = EventBatch.fromRows('flow', flowRows(30));
  const slice = flows.slice(7, 19);
  assert.deepEqual(roundTrip(slice).rows(), flows.rows().slice(7, 19));
  assert.deepEqual(roundTrip(slice.slice(2, 5)).rows(), flows.rows().slice(9, 12), 'a slice of a slice');
  for (const sel of [[5, 5, 5], [29, 28, 3, 0], [], [1, 2, 3, 2, 1]]) {
    const rows = Int32Array.from(sel);
    assert.deepEqual(roundTrip(flows, rows).rows(), sel.map((i) => flows.rows()[i]), `flow rows ${sel}`);
    assert.deepEqual(roundTrip(dns, rows).rows(), sel.map((i) => dns.rows()[i]), `dns rows ${sel}`);
    assert.deepEqual(roundTrip(slice, Int32Array.from(sel.filter((i) => i < slice.length))).rows(), sel.filter((i) => i < slice.length).map((i) => slice.rows()[i]));
  }
  const reversed = Int32Array.from({ length: dns.length }, (_, i) => dns.length - 1 - i);
  assert.deepEqual(roundTrip(dns, reversed).rows(), [...dns.rows()].reverse());
  assert.throws(() => encodeArrow(flows, Int32Array.of(0, 30)), (e: unknown) => e instanceof InvalidArgumentError && /row 30 is outside the flow batch of 30/.test(e.message));
  assert.throws(() => encodeArrow(flows, Int32Array.of(-1)), InvalidArgumentError);
});

test('64-bit columns: exact to 2^53 - 1, negative timestamps; a wider value is refused', () => {
  const rows = [
    flowSample(1, { sbytes: 2 ** 53 - 1, dbytes: 0, stime: -1, etime: -1_000_000_123_456, ts: 2 ** 53 - 1 }),
    flowSample(2, { sbytes: 2 ** 32, dbytes: 2 ** 32 - 1, stime: 0, etime: -(2 ** 53 - 1), ts: 1 }),
  ];
  const b = EventBatch.fromRows('flow', rows);
  const d = roundTrip(b);
  assert.deepEqual(d.rows(), b.rows());
  const t = tableFromIPC(encodeArrow(b));
  assert.deepEqual([...t.getChild('sbytes')!], [2n ** 53n - 1n, 2n ** 32n]);
  assert.deepEqual([...(t.getChild('etime')!.data[0]!.values as BigInt64Array)], [-1_000_000_123_456n, -(2n ** 53n - 1n)]);
  // 2^53 - 1 → 2^53 on the wire (little-endian FF FF FF FF FF FF 1F 00 → 00 .. 00 20 00).
  const bytes = encodeArrow(EventBatch.fromRows('flow', [flowSample(1, { sbytes: 2 ** 53 - 1 })]));
  const at = Buffer.from(bytes).indexOf(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00]));
  assert.ok(at > 0);
  bytes.set([0, 0, 0, 0, 0, 0, 0x20, 0], at);
  assert.throws(() => decodeArrow(bytes), refused(/^flow\.sbytes: value at row 0 does not fit in 53 bits/));
});

test('a large batch (20,000 flows) round-trips', () => {
  const rows = flowRows(20_000);
  const b = EventBatch.fromRows('flow', rows);
  const d = roundTrip(b);
  assert.equal(d.length, 20_000);
  for (const i of [0, 1, 9_999, 12_345, 19_999]) assert.deepEqual(JSON.stringify(d.get(i)), JSON.stringify(b.get(i)), `row ${i}`);
  assert.deepEqual(d.cols.sbytes, b.cols.sbytes);
  assert.equal((d.cols.flowid as StringData).data, (b.cols.flowid as StringData).data);
});

test('the schema and dictionary messages are the same bytes for every batch of a type', () => {
  const a = encodeArrow(EventBatch.fromRows('flow', flowRows(3)));
  const b = encodeArrow(EventBatch.fromRows('flow', flowRows(10)), Int32Array.of(4));
  const [sa, da, ra] = frames(a);
  assert.equal(sa!.f.header.kind, 'schema');
  assert.equal(da!.f.header.kind, 'dictionary');
  assert.equal(ra!.f.header.kind, 'record');
  assert.deepEqual(a.subarray(0, ra!.start), b.subarray(0, ra!.start));
  assert.deepEqual([...a.subarray(a.length - 8)], [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], 'end-of-stream marker');
  for (const { f } of frames(a)) assert.equal(f.bodyStart % 8, 0, 'bodies 8-aligned');
});

test('apache-arrow reads our streams: values, dictionary, lists, timestamps, u64, metadata', () => {
  const flows = EventBatch.fromRows('flow', flowRows(5));
  const t = tableFromIPC(encodeArrow(flows));
  assert.equal(t.numRows, 5);
  assert.equal(t.schema.metadata.get('damselfly.type'), 'flow');
  assert.equal(t.schema.metadata.get('damselfly.schema_version'), '1');
  assert.deepEqual(t.schema.fields.map((f) => f.name), EVENT_TYPES.flow.columns.map((c) => c.name));
  assert.deepEqual([...t.getChild('kind')!], ['start', 'update', 'end', 'start', 'update']);
  assert.deepEqual([...(t.getChild('ts')!.data[0]!.values as BigInt64Array)], flows.rows().map((r) => BigInt(r.ts)));
  assert.equal((t.schema.fields.find((f) => f.name === 'ts')!.type as TimestampMicrosecond).timezone, 'UTC');
  assert.deepEqual([...t.getChild('sbytes')!], flows.rows().map((r) => BigInt(r.sbytes)));
  assert.deepEqual([...t.getChild('saddr')!], flows.rows().map((r) => r.saddr));
  assert.deepEqual([...t.getChild('ndpi_risk_severity')!], flows.rows().map((r) => r.ndpi_risk_severity ?? null));
  assert.deepEqual([...t.getChild('pcr')!], flows.rows().map((r) => r.pcr));

  const dns = EventBatch.fromRows('dns', dnsRows(6));
  const td = tableFromIPC(encodeArrow(dns, Int32Array.of(3, 1, 0)));
  assert.deepEqual(td.getChild('answers')!.toArray().map((l: { toArray(): { toJSON(): unknown }[] }) => l.toArray().map((x) => x.toJSON())), [3, 1, 0].map((i) => dns.rows()[i]!.answers));
  const alerts = EventBatch.fromRows('alert', [samples().alert]);
  const ta = tableFromIPC(encodeArrow(alerts));
  assert.equal(ta.schema.fields.find((f) => f.name === 'factors')!.metadata.get('damselfly.json'), 'true');
  const tt = tableFromIPC(encodeArrow(EventBatch.fromRows('trigger', [samples().trigger])));
  assert.deepEqual([...tt.getChild('hosts')!.get(0)!], samples().trigger.hosts);
});

/** An apache-arrow table of events (plain rows), written with apache-arrow's own builders. */
function arrowTableOf(type: EventType, events: readonly unknown[]): Table {
  const rows = events as readonly Record<string, unknown>[];
  const specs = EVENT_TYPES[type].columns;
  const fields = specs.map((s) => new Field(s.name, arrowTypeOf(s), s.nullable === true, s.type === 'Json' ? new Map([['damselfly.json', 'true']]) : undefined));
  const children = specs.map((s, i) => {
    const values = rows.map((r) => r[s.name] ?? null);
    const t = fields[i]!.type;
    if (s.type === 'UInt64') return makeData({ type: t as Uint64, length: rows.length, nullCount: 0, data: BigUint64Array.from(values, (v) => BigInt(v as number)) });
    if (s.type === 'Timestamp') return makeData({ type: t as TimestampMicrosecond, length: rows.length, nullCount: 0, data: BigInt64Array.from(values, (v) => BigInt(v as number)) });
    return vectorFromArray(s.type === 'Json' ? values.map((v) => JSON.stringify(v)) : values, t).data[0]!;
  });
  const schema = new Schema(fields, new Map([['damselfly.type', type], ['damselfly.schema_version', '1']]));
  return new Table(schema, new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children })));
}

test('we read streams apache-arrow writes with our schema', () => {
  const cases: [EventType, unknown[]][] = [
    ['flow', flowRows(25)],
    ['dns', dnsRows(9)],
    ['trigger', [samples().trigger, { ...samples().trigger, hosts: [] }]],
    ['alert', [{ ...samples().alert, reason: 'café ☕ 𝔘' }, samples().alert]],
    ['stats', [samples().stats, { ...samples().stats, analyzer: undefined }]],
  ];
  for (const [type, rows] of cases) {
    const ipc = tableToIPC(arrowTableOf(type, rows), 'stream');
    const d = decodeArrow(ipc);
    EventBatch.check(d);
    assert.deepEqual(d.rows(), EventBatch.fromRows(type, rows).rows(), `${type} from apache-arrow`);
  }
});

test('a Buffer at an odd byteOffset (as Kafka hands them) decodes; aligned input is not copied', () => {
  const b = EventBatch.fromRows('dns', dnsRows(20));
  const bytes = encodeArrow(b);
  const backing = Buffer.alloc(bytes.length + 3);
  backing.set(bytes, 3);
  const odd = backing.subarray(3);
  const d = decodeArrow(odd, 'dns');
  assert.deepEqual(d.rows(), b.rows());
  assert.equal((d.cols.sport as Uint16Array).byteOffset % 2, 0);
  const aligned = decodeArrow(bytes, 'dns');
  assert.equal((aligned.cols.sport as Uint16Array).buffer, bytes.buffer, 'a view over the input');
});

test('truncated streams are refused at every cut; a missing end-of-stream marker is accepted', () => {
  const bytes = encodeArrow(EventBatch.fromRows('dns', dnsRows(5)));
  const ok = /^(corrupt Arrow payload: truncated|empty Arrow payload|Arrow stream holds no record batch|corrupt Arrow payload: .*(outside|past|bad vtable))/;
  for (let cut = 0; cut < bytes.length - 8; cut++) assert.throws(() => decodeArrow(bytes.subarray(0, cut)), refused(ok), `cut at ${cut}`);
  for (let cut = bytes.length - 7; cut < bytes.length; cut++) assert.throws(() => decodeArrow(bytes.subarray(0, cut)), refused(/truncated/));
  assert.equal(decodeArrow(bytes.subarray(0, bytes.length - 8)).length, 5);
});

/** Seeded PRNG (mulberry32): the same cases on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random byte flips in metadata and body: a BatchFormatError or a batch that passes check()', () => {
  const rand = prng(20240611);
  const sources = [
    encodeArrow(EventBatch.fromRows('flow', flowRows(12))),
    encodeArrow(EventBatch.fromRows('dns', dnsRows(8))),
    encodeArrow(EventBatch.fromRows('alert', [{ ...samples().alert, reason: 'café ☕ 𝔘' }, samples().alert])),
  ];
  let refusedCount = 0;
  let accepted = 0;
  for (const src of sources) {
    const regions = frames(src).flatMap(({ start, f }) => [[start, f.bodyStart], [f.bodyStart, f.next]] as const).filter(([a, b]) => b > a);
    for (let k = 0; k < 150; k++) {
      const bytes = src.slice();
      const [a, b] = regions[k % regions.length]!;
      const flips = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < flips; j++) bytes[a + Math.floor(rand() * (b - a))]! ^= 1 << Math.floor(rand() * 8);
      let d: EventBatch;
      try {
        d = decodeArrow(bytes);
      } catch (e) {
        refused(/./)(e);
        refusedCount++;
        continue;
      }
      EventBatch.check(d);
      accepted++;
    }
  }
  assert.ok(refusedCount > 50 && accepted > 50, `both outcomes occur (${refusedCount} refused, ${accepted} accepted)`);
});

test('foreign or broken streams are refused with one clear line', () => {
  const flows = EventBatch.fromRows('flow', flowRows(4));
  const bytes = encodeArrow(flows);
  assert.throws(() => decodeArrow(new Uint8Array(0)), refused(/^empty Arrow payload$/));
  const badMarker = bytes.slice();
  badMarker[0] = 0;
  assert.throws(() => decodeArrow(badMarker), refused(/^corrupt Arrow payload: expected the continuation marker 0xFFFFFFFF at byte 0, found 0xFFFFFF00$/));
  assert.throws(() => decodeArrow(withSchema(bytes, (s) => (s.metadata['damselfly.type'] = 'smtp'))), refused(/^unknown event type 'smtp'$/));
  assert.throws(() => decodeArrow(withSchema(bytes, (s) => delete s.metadata['damselfly.type'])), refused(/without damselfly\.type metadata/));
  assert.throws(() => decodeArrow(withSchema(bytes, (s) => (s.metadata['damselfly.schema_version'] = '7'))), refused(/^flow batch of schema version 7: this build reads version 1$/));
  assert.throws(() => decodeArrow(withSchema(bytes, (s) => (s.fields = s.fields.filter((f) => f.name !== 'seq')))), refused(/^flow schema: column seq missing$/));
  assert.throws(() => decodeArrow(withSchema(bytes, (s) => s.fields.push({ ...s.fields[2]!, name: 'extra' }))), refused(/^flow schema: unexpected column extra$/));
  assert.throws(() => decodeArrow(withSchema(bytes, (s) => s.fields.reverse())), refused(/^flow schema: column 0 is quic_scid where ts belongs$/));
  assert.throws(
    () => decodeArrow(withSchema(bytes, (s) => (s.fields.find((f) => f.name === 'sport')!.type = { id: 2, bitWidth: 32, signed: true }))),
    refused(/^flow schema: sport is Int\(32, signed\), expected Int\(16, unsigned\)$/),
  );
  assert.throws(
    () => decodeArrow(withSchema(bytes, (s) => (s.fields.find((f) => f.name === 'kind')!.dictionary = null))),
    refused(/^flow schema: kind is Utf8, expected Dictionary<Int\(8, signed\), Utf8>$/),
  );
  assert.throws(
    () => decodeArrow(withSchema(bytes, (s) => (s.fields.find((f) => f.name === 'ts')!.type.unit = 3))),
    refused(/^flow schema: ts is Timestamp\(NANOSECOND, UTC\), expected Timestamp\(MICROSECOND, UTC\)$/),
  );
  const dns = encodeArrow(EventBatch.fromRows('dns', dnsRows(3)));
  assert.throws(
    () => decodeArrow(withSchema(dns, (s) => (s.fields.at(-1)!.children[0]!.children[2]!.type = { id: 5 }))),
    refused(/^dns schema: answers\[\]: ttl is Utf8, expected Int\(32, unsigned\)$/),
  );

  // Two record batches: refused (one per stream).
  const [, , record] = frames(bytes);
  const two = concat(bytes.subarray(0, bytes.length - 8), bytes.subarray(record!.start, bytes.length));
  assert.throws(() => decodeArrow(two), refused(/^unsupported Arrow stream: more than one record batch/));
  // Schema (and dictionary) only.
  assert.throws(() => decodeArrow(concat(bytes.subarray(0, record!.start), bytes.subarray(bytes.length - 8))), refused(/^Arrow stream holds no record batch$/));
  // Body compression set on the record batch.
  const rb = (record!.f.header as { batch: { length: number; nodes: Float64Array; buffers: Float64Array } }).batch;
  const compressed = concat(bytes.subarray(0, record!.start), framed(compressedRecordBatch(rb, record!.f.bodyLength)), bytes.subarray(record!.f.bodyStart));
  assert.throws(() => decodeArrow(compressed), refused(/^unsupported Arrow stream: body compression$/));
  // A delta dictionary.
  const [, dict] = frames(bytes);
  const delta = concat(bytes.subarray(0, dict!.start), framed(deltaDictionary(dict!.f)), bytes.subarray(dict!.f.bodyStart));
  assert.throws(() => decodeArrow(delta), refused(/^unsupported Arrow stream: delta dictionary batch$/));
  // A record batch before any schema.
  assert.throws(() => decodeArrow(bytes.subarray(record!.start)), refused(/^corrupt Arrow payload: a record batch before the schema$/));
  // A stream of another type where this one belongs.
  assert.throws(() => decodeArrow(bytes, 'dns'), refused(/^a flow batch where dns events belong$/));
});

test('corrupt values in the body are refused: invalid UTF-8, enum index out of range, short buffers', () => {
  const flows = EventBatch.fromRows('flow', [flowSample(1, { saddr: '10.9.9.9', kind: 'update' })]);
  const bytes = encodeArrow(flows);
  const utf = bytes.slice();
  utf[Buffer.from(utf).indexOf('10.9.9.9')] = 0xff;
  assert.throws(() => decodeArrow(utf), refused(/^corrupt Arrow payload: flow\.saddr is not valid UTF-8$/));
  // The kind column's index (update = 1) is the first byte of its buffer in the record batch body.
  const [, , record] = frames(bytes);
  const rb = (record!.f.header as { batch: { buffers: Float64Array } }).batch;
  const kind = bytes.slice();
  // Buffers: ts (validity, data), kind (validity, indices) → the 4th buffer.
  kind[record!.f.bodyStart + rb.buffers[6]!] = 3;
  assert.throws(() => decodeArrow(kind), refused(/^corrupt Arrow payload: flow\.kind: dictionary index 3 at row 0 is not one of 3$/));
  // A buffer that runs past the body.
  const shortBody = concat(bytes.subarray(0, record!.start), framed(recordBatchWith(rb as never, record!.f.bodyLength, 1, 4096)), bytes.subarray(record!.f.bodyStart));
  assert.throws(() => decodeArrow(shortBody), refused(new RegExp(`^corrupt Arrow payload: record batch body is ${record!.f.bodyLength} bytes, buffers need \\d+$`)));
});

// Hand-built messages for the refusal tests (features our writer never uses).

function pairVector(b: Builder, pairs: Float64Array): number {
  b.startVector(16, pairs.length / 2, 8);
  for (let i = pairs.length - 2; i >= 0; i -= 2) {
    b.prep(8, 16);
    b.writeInt64(BigInt(pairs[i + 1]!));
    b.writeInt64(BigInt(pairs[i]!));
  }
  return b.endVector();
}

function recordBatchTable(b: Builder, rb: { length: number; nodes: Float64Array; buffers: Float64Array }, compression: boolean): number {
  const nodes = pairVector(b, rb.nodes);
  const buffers = pairVector(b, rb.buffers);
  let codec = 0;
  if (compression) {
    b.startObject(2);
    b.addFieldInt8(0, 0, -1); // LZ4_FRAME, written even though it is the default
    codec = b.endObject();
  }
  b.startObject(5);
  b.addFieldInt64(0, BigInt(rb.length), 0n);
  b.addFieldOffset(1, nodes, 0);
  b.addFieldOffset(2, buffers, 0);
  if (codec) b.addFieldOffset(3, codec, 0);
  return b.endObject();
}

function message(b: Builder, headerType: number, header: number, bodyLength: number): Uint8Array {
  b.startObject(5);
  b.addFieldInt16(0, 4, 0);
  b.addFieldInt8(1, headerType, 0);
  b.addFieldOffset(2, header, 0);
  b.addFieldInt64(3, BigInt(bodyLength), 0n);
  b.finish(b.endObject());
  return b.asUint8Array();
}

function compressedRecordBatch(rb: { length: number; nodes: Float64Array; buffers: Float64Array }, bodyLength: number): Uint8Array {
  const b = new Builder(1024);
  return message(b, 3, recordBatchTable(b, rb, true), bodyLength);
}

/** The record batch with buffer `i` made `length` bytes long. */
function recordBatchWith(rb: { length: number; nodes: Float64Array; buffers: Float64Array }, bodyLength: number, i: number, length: number): Uint8Array {
  const buffers = rb.buffers.slice();
  buffers[2 * i + 1] = length;
  const b = new Builder(1024);
  return message(b, 3, recordBatchTable(b, { ...rb, buffers }, false), bodyLength);
}

function deltaDictionary(f: Frame): Uint8Array {
  const d = (f.header as { batch: { id: number; data: { length: number; nodes: Float64Array; buffers: Float64Array } } }).batch;
  const b = new Builder(512);
  const data = recordBatchTable(b, d.data, false);
  b.startObject(3);
  b.addFieldInt64(0, BigInt(d.id), 0n);
  b.addFieldOffset(1, data, 0);
  b.addFieldInt8(2, 1, 0);
  return message(b, 2, b.endObject(), f.bodyLength);
}
