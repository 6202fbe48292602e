/**
 * A graph that cannot be built as asked: a name used twice, a value of another graph used as an input or output.
 * ShapeError (shapes, dtypes, attributes that do not fit an op's schema) extends it, so
 * `catch (e) { if (e instanceof GraphError) … }` catches every graph or shape problem.
 */
export class GraphError extends Error {
  override name = 'GraphError';
}
