/**
 * The data readers' error classes, in the module at the bottom of data/: read-bytes.ts, the header probes and the
 * format codecs all throw them, and a class that extends another must not wait on a module still being evaluated.
 */

/** A data file that cannot be read (missing, corrupt gzip, not IDX or .npy); the message names the file. */
export class DataFileError extends Error {
  override name = 'DataFileError';
}

/** An IDX file that cannot be read; the message names the file. */
export class IdxError extends DataFileError {
  override name = 'IdxError';
}

/** A .npy file that cannot be read; the message names the file. */
export class NpyError extends DataFileError {
  override name = 'NpyError';
}

/** The error class a reader reports with (IdxError, NpyError, …). */
export type DataErrorClass = new (message: string, options?: ErrorOptions) => Error;
