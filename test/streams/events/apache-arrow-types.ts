// Our column specs in apache-arrow's type terms, built from the event-type table (not from our
// encoder): the interop tests read and write with apache-arrow through these, and the codec
// benchmark encodes with apache-arrow through them.
import { Dictionary, Field, Float64, Int8, Int32, List, Struct, TimestampMicrosecond, Uint16, Uint32, Uint64, Uint8, Utf8, type DataType } from 'apache-arrow';
import type { ColumnSpec } from '../../../streams/events/columns.js';

export function arrowTypeOf(s: ColumnSpec): DataType {
  if (s.enum) return new Dictionary(new Utf8(), new Int8());
  switch (s.type) {
    case 'UInt8': return new Uint8();
    case 'UInt16': return new Uint16();
    case 'UInt32': return new Uint32();
    case 'Int32': return new Int32();
    case 'UInt64': return new Uint64();
    case 'Float64': return new Float64();
    case 'Timestamp': return new TimestampMicrosecond('UTC');
    case 'List': return new List(new Field('item', arrowTypeOf(s.of!), false));
    case 'Struct': return new Struct((s.fields ?? []).map((f) => new Field(f.name, arrowTypeOf(f), false)));
    default: return new Utf8();
  }
}
