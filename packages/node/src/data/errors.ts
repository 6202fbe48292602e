/**
 * The data readers' error classes, in the module at the bottom of data/: read-bytes.ts, the header probes and the
 * format codecs all throw them, and a class that extends another must not wait on a module still being evaluated.
 */
import { FormatError } from '@onnxvae/core';

/**
 * A data file that cannot be read (missing, corrupt gzip, not IDX or .npy); the message names the file. A kind of
 * core's FormatError (a file that is not what it claims), so `instanceof OnnxvaeError` covers the readers too.
 */
export class DataFileError extends FormatError {
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

/**
 * An image folder that cannot be used as a dataset: an image that does not decode, an empty folder or class, mixed
 * sizes or channels; the message names the folder or file and says what to do.
 */
export class ImageFolderError extends DataFileError {
  override name = 'ImageFolderError';
}

/** The error class a reader reports with (IdxError, NpyError, …). */
export type DataErrorClass = new (message: string, options?: ErrorOptions) => Error;
