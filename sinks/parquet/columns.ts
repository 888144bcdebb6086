// The columnar batch the Parquet sink hands to its native stage.
import { COLUMNS } from './schema.js';

/** A batch of rows in columns. */
export interface ColumnBatch {
  n: number;
  /** The numeric columns of COLUMNS, in order, one value per row. */
  nums: Float64Array[];
  /**
   * PACKED: the string columns of a row joined with SEP, rows joined with ROW_SEP — one string for
   * the whole batch, so crossing to C++ is one conversion, not one per value. Null when
   * `plain` is used.
   */
  packed: string | null;
  /** PLAIN: the string columns, column by column (a string held the separator). */
  plain: string[][] | null;
}

export const SEP = '\u001f';
export const ROW_SEP = '\u001e';
export const NUMERIC = COLUMNS.filter((f) => f.type !== 'String');
export const STRINGS = COLUMNS.filter((f) => f.type === 'String');
