// Column vocabulary of the event batches: what a column spec says (type, nullability, enum labels,
// list items) and how each type is held in memory. Pure data and types, no Node APIs: this file is
// bundled into the analyzer sandboxes together with views.ts.
//
// In memory a batch is a set of columns laid out like Apache Arrow's (one typed array per numeric
// column, offsets + one character buffer per string column, offsets + child columns per list), so
// that Arrow IPC framing (arrow.ts), the Parquet writer and the sandbox take columns as they are:
//   UInt8 / UInt16 / UInt32 / Int32 / Float32 / Float64   → the matching typed array
//   UInt64 / Timestamp (µs since epoch, UTC)               → Float64Array: exact up to 2^53 (a flow
//        counter or a timestamp never gets there), read without BigInt allocation; written as
//        true 64-bit integers on the Arrow wire and in Parquet
//   String / Json (JSON text)                              → { data: string, offsets: Int32Array }:
//        row i is data.substring(offsets[i], offsets[i + 1]) (UTF-16 code unit offsets; sensor
//        strings are ASCII, so these equal Arrow's UTF-8 byte offsets)
//   List of a struct or a scalar                           → { offsets: Int32Array, items: <column of `of`> }
//   Struct (only as list items)                            → { fields: { name: column } }
// A nullable column may have a validity array (Uint8Array, 1 = present) in the batch's `valid`
// map; no entry means no nulls. Offsets are absolute positions into their data/items, so a slice
// of a batch is made of subarrays without copying.

export type ColumnType =
  | 'UInt8'
  | 'UInt16'
  | 'UInt32'
  | 'UInt64'
  | 'Int32'
  | 'Float32'
  | 'Float64'
  | 'Timestamp'
  | 'String'
  | 'Json'
  | 'List'
  | 'Struct';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly description?: string;
  /** May hold nulls (read as `undefined`); only these columns get a validity array. */
  readonly nullable?: boolean;
  /** UInt8 codes standing for these labels (views and JSON show the label). */
  readonly enum?: readonly string[];
  /** List: the item column (a scalar column or a Struct). */
  readonly of?: ColumnSpec;
  /** Struct: its fields. */
  readonly fields?: readonly ColumnSpec[];
}

export type NumericArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export interface StringData {
  data: string;
  offsets: Int32Array;
  /**
   * Every character of `data` is ASCII (so its offsets are UTF-8 byte offsets too and it can be
   * handed to native code as latin1 bytes). Set by whoever knows it cheaply — the sensor (its
   * strings are printable ASCII), the Arrow decoder; absent means "not known".
   */
  ascii?: boolean;
}

export interface ListData {
  offsets: Int32Array;
  items: ColumnData;
}

export interface StructData {
  fields: Record<string, ColumnData>;
}

export type ColumnData = NumericArray | StringData | ListData | StructData;

export type Columns = Record<string, ColumnData>;
export type Validity = Record<string, Uint8Array>;

export type NumericType = 'UInt8' | 'UInt16' | 'UInt32' | 'UInt64' | 'Int32' | 'Float32' | 'Float64' | 'Timestamp';

export const NUMERIC_TYPES: readonly NumericType[] = ['UInt8', 'UInt16', 'UInt32', 'UInt64', 'Int32', 'Float32', 'Float64', 'Timestamp'];

export function isNumeric(t: ColumnType): t is NumericType {
  return (NUMERIC_TYPES as readonly string[]).includes(t);
}

export function isStringLike(t: ColumnType): t is 'String' | 'Json' {
  return t === 'String' || t === 'Json';
}

type ArrayCtor = new (n: number) => NumericArray;

/** The typed array that holds a numeric column in memory. */
export const ARRAY_OF: Readonly<Record<NumericType, ArrayCtor>> = {
  UInt8: Uint8Array,
  UInt16: Uint16Array,
  UInt32: Uint32Array,
  UInt64: Float64Array,
  Int32: Int32Array,
  Float32: Float32Array,
  Float64: Float64Array,
  Timestamp: Float64Array,
};
