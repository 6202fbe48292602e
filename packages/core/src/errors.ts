/**
 * The kinds of error onnxvae throws on purpose, so a caller can tell them apart by type:
 *
 *     try { await loadBundle(read) } catch (e) {
 *       if (e instanceof BundleError) … // a manifest, hash or tensor that does not fit: re-download or re-export
 *       else if (e instanceof FormatError) … // a file that is not a valid .onnx / .safetensors
 *       else throw e;
 *     }
 *
 * Every one extends OnnxvaeError, so `e instanceof OnnxvaeError` separates our messages (which name the file,
 * tensor, shape or value at fault) from a bug's TypeError. This module is the ground floor: it imports nothing.
 */
export class OnnxvaeError extends Error {
  override name = 'OnnxvaeError';
}

/** A bad model file: an .onnx or .safetensors file that does not parse (ModelParseError, SafetensorsError). */
export class FormatError extends OnnxvaeError {
  override name = 'FormatError';
}

/** A bad bundle: a manifest, file size, hash or tensor that does not fit; the message names the file and field. */
export class BundleError extends OnnxvaeError {
  override name = 'BundleError';
}

/**
 * A bad feed: data handed to a session wrapper (Trainer, Evaluator, Sampler, Refiner) that does not fit the model —
 * the wrong number of values, labels missing or out of range, non-finite latents, a session without an input.
 */
export class FeedError extends OnnxvaeError {
  override name = 'FeedError';
}

/**
 * A graph that cannot be built as asked: a name used twice, a value of another graph used as an input or output.
 * ShapeError (shapes, dtypes, attributes that do not fit an op's schema) and GradientError (no rule to
 * differentiate a node) extend it, so `catch (e) { if (e instanceof GraphError) … }` catches every graph problem.
 */
export class GraphError extends OnnxvaeError {
  override name = 'GraphError';
}
