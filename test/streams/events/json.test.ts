// JSON framing: one object per event round-trips every event type; what cannot be read is refused
// with one clear message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBatch } from '../../../streams/events/batch.js';
import { decodeJson, encodeJson, encodeJsonLines, parseEventJson } from '../../../streams/events/json.js';
import { EVENT_TYPE_NAMES } from '../../../streams/events/table.js';
import { BatchFormatError } from '../../../streams/errors.js';
import { samples } from './samples.js';

test('every event type round-trips through JSON; lines end with a newline', () => {
  const all = samples();
  for (const type of EVENT_TYPE_NAMES) {
    const b = EventBatch.fromRows(type, [all[type], all[type]]);
    const texts = encodeJson(b);
    assert.equal(texts.length, 2);
    assert.deepEqual(JSON.parse(texts[0]!), all[type], `${type} JSON`);
    assert.deepEqual(decodeJson(type, texts).rows(), [all[type], all[type]], `${type} decoded`);
    assert.equal(encodeJsonLines(b), texts.map((t) => t + '\n').join(''));
  }
});

test('unknown types, other schema versions, non-objects and misplaced types are refused', () => {
  const refuse = (text: string, re: RegExp, expected?: 'flow' | 'dns'): void => {
    assert.throws(() => parseEventJson(text, expected), (e: unknown) => e instanceof BatchFormatError && re.test(e.message), text);
  };
  refuse('{"type":"smtp","v":1}', /unknown event type 'smtp'/);
  refuse('{"type":"dns","v":2}', /dns event of schema version 2: this build reads version 1/);
  refuse('[1,2]', /not an object/);
  refuse('{"type":"dns"', /not JSON/);
  refuse('{"type":"dns","v":1}', /a dns event where flow events belong/, 'flow');
  assert.equal(parseEventJson('{"query":"x"}', 'dns').type, undefined, 'no type: taken as the expected one');
});
