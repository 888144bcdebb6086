// Loads the native Parquet writer (sinks/parquet/native, built by scripts/build-native.sh).
import { addonPath, requireAddon } from '../../streams/addon.js';
import type { FieldType } from '../../streams/schema.js';
import type { ColumnData } from '../../streams/events/columns.js';

/** One UTC day's rows being staged: encoded into Parquet pages and compressed as they arrive. */
export interface ParquetStage {
  /**
   * Appends rows sel[0..n) (rows 0..n without sel) of a columnar batch: `cols` in schema order, each
   * a numeric typed array or a string column {data, offsets} (streams/events/columns.ts). `valid`:
   * per column, a validity array over the batch's rows (0 = NULL) or null/undefined for no nulls.
   */
  appendColumns(cols: readonly ColumnData[], sel: Int32Array | null, n: number, valid?: readonly (Uint8Array | null | undefined)[]): void;
  rows(): number;
  /** Bytes held: compressed pages plus the open pages. */
  heldBytes(): number;
  /** Hex SHA-256 of what writeFile() writes before the footer ("PAR1" and the pages); closes the open row group. */
  contentSha256(): string;
  /** Writes the file on a worker thread; resolves with its size. The stage is kept (a retry writes it again). */
  writeFile(path: string, kv: [string, string][], createdBy: string): Promise<number>;
  /** Frees the staged rows. */
  release(): void;
}

export interface ParquetNative {
  ParquetStage: new (
    columns: readonly { name: string; type: FieldType }[],
    opts: { pageBytes?: number; rowGroupRows?: number; level?: number },
  ) => ParquetStage;
}

let addon: ParquetNative | undefined;

export function parquetAddonPath(): string {
  return addonPath(['sinks', 'parquet', 'native'], 'damselfly_parquet');
}

export function loadParquetNative(): ParquetNative {
  return (addon ??= requireAddon<ParquetNative>(parquetAddonPath(), 'the native Parquet writer'));
}
