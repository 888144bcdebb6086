// Errors of the sinks module, on the streams base classes (see streams/errors.ts).
import { InternalError, UserError } from '../streams/errors.js';

/** An output location the user pointed us at cannot be used (missing permission, not a directory). */
export class SinkPathError extends UserError {
  constructor(
    readonly sink: string,
    readonly path: string,
    reason: string,
    cause?: unknown,
  ) {
    super(`${sink}: cannot write to ${path}: ${reason}`, { code: 'SINK_IO', cause });
    this.name = 'SinkPathError';
  }
}

/** Writing a file failed for a reason that is not the user's (DuckDB error, disk full, ...). */
export class SinkWriteError extends InternalError {
  constructor(
    readonly sink: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(`${sink}: writing ${path} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      code: 'SINK_WRITE',
      cause,
      retriable: true,
    });
    this.name = 'SinkWriteError';
  }
}

/** Describe a filesystem errno for a user (one line). */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    case 'EEXIST':
      return 'exists and is not a directory';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    case 'ENOENT':
      return 'cannot create a directory there (its parent does not take new entries)';
    default:
      return code ?? (e instanceof Error ? e.message : String(e));
  }
}
