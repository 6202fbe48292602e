import { describe, expect, it } from 'vitest';
import '../ops/builder.js';
import { GraphError } from '../errors.js';
import { Attrs, Graph } from './graph.js';
import { ShapeError } from './shape.js';

/** The error thrown by fn, or a failure if it does not throw. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('graph errors: name collisions and foreign values are GraphErrors, not ShapeErrors', () => {
  it('a graph input whose name is taken', () => {
    const g = new Graph('names');
    g.input('x', 'float32', [2]);
    const e = thrown(() => g.input('x', 'float32', [3]));
    expect(e).toBeInstanceOf(GraphError);
    expect(e).not.toBeInstanceOf(ShapeError);
    expect(e.name).toBe('GraphError');
    expect(e.message).toBe("name 'x' is already used in graph 'names'");
  });

  it('an initializer, or an output renamed, onto a taken name', () => {
    const g = new Graph('names');
    const x = g.input('x', 'float32', [2]);
    g.initializer('w.a', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
    expect(thrown(() => g.initializer('w.a', { dtype: 'float32', shape: [2], data: new Float32Array(2) }))).toBeInstanceOf(GraphError);
    const e = thrown(() => g.output(g.Neg(x), 'w.a'));
    expect(e).toBeInstanceOf(GraphError);
    expect(e).not.toBeInstanceOf(ShapeError);
  });

  it('a subgraph shares its root graph’s names', () => {
    const g = new Graph('root');
    g.input('v', 'float32', []);
    const body = g.subgraph('body');
    expect(thrown(() => body.input('v', 'float32', []))).toBeInstanceOf(GraphError);
  });

  it('an input from another graph', () => {
    const g1 = new Graph('one');
    const g2 = new Graph('two');
    const a = g1.input('a', 'float32', [2]);
    const b = g2.input('b', 'float32', [2]);
    const e = thrown(() => g2.Add(b, a));
    expect(e).toBeInstanceOf(GraphError);
    expect(e).not.toBeInstanceOf(ShapeError);
    expect(e.message).toBe("node 'Add' (Add): input 1 'a' belongs to another graph");
    expect(g2.nodes).toHaveLength(0);
  });

  it('an output from another graph, or from a subgraph of this one', () => {
    const g1 = new Graph('one');
    const g2 = new Graph('two');
    const a = g1.input('a', 'float32', [2]);
    expect(thrown(() => g2.output(a))).toBeInstanceOf(GraphError);
    const body = g1.subgraph('body');
    const inner = body.Neg(a);
    const e = thrown(() => g1.output(inner));
    expect(e).toBeInstanceOf(GraphError);
    expect(e.message).toMatch(/does not belong to graph 'one'/);
  });

  it('a subgraph may read its enclosing graph’s values', () => {
    const g = new Graph('root');
    const a = g.input('a', 'float32', [2]);
    const body = g.subgraph('body');
    expect(body.Neg(a).shape).toEqual([2]);
  });

  it('a ShapeError is a GraphError, so one catch takes every graph or shape problem', () => {
    const g = new Graph('shapes');
    const e = thrown(() => g.Add(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4])));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e).toBeInstanceOf(GraphError);
    expect(e.name).toBe('ShapeError');
  });
});

describe('attribute defaults come from the op schema', () => {
  it('a builder leaves out an attribute the caller does not give; rules read the schema default', () => {
    const g = new Graph('defaults');
    const x = g.input('x', 'float32', [2, 3]);
    const y = g.LeakyRelu(x);
    const node = y.producer;
    expect(node?.attrs.has('alpha')).toBe(false);
    const attrs = new Attrs(node?.attrs ?? new Map(), 'LeakyRelu', { alpha: { type: 'float', default: 0.01 } });
    expect(attrs.float('alpha')).toBe(0.01);
    expect(attrs.has('alpha')).toBe(false);
    expect(g.LeakyRelu(x, 0.2).producer?.attrs.get('alpha')).toEqual({ type: 'float', value: 0.2 });
    for (const v of [g.Softmax(x), g.LogSoftmax(x), g.Flatten(x), g.Gather(x, g.ints([0])), g.Elu(x), g.Gemm(x, g.Transpose(x))])
      expect([...(v.producer?.attrs.keys() ?? [])]).toEqual([]);
  });

  it('builder defaults that differ from ONNX’s (keepdims false) are written', () => {
    const g = new Graph('keepdims');
    const x = g.input('x', 'float32', [2, 3]);
    expect(g.ReduceSum(x, [1]).producer?.attrs.get('keepdims')).toEqual({ type: 'int', value: 0 });
    expect(g.ArgMax(x, 1).producer?.attrs.get('keepdims')).toEqual({ type: 'int', value: 0 });
    expect(g.ReduceSum(x, [1]).shape).toEqual([2]);
    // Read back without the attribute, ONNX's keepdims = 1 applies.
    expect(g.op1('ReduceSum', [x, g.ints([1])]).shape).toEqual([2, 1]);
  });

  it('a missing attribute without a default is an error; a rule may not override a schema default', () => {
    const a = new Attrs(new Map(), 'Op', { to: 'int', alpha: { type: 'float', default: 0.5 } });
    expect(() => a.int('to')).toThrow(ShapeError);
    expect(a.int('to', 3)).toBe(3);
    expect(() => a.float('alpha', 0.25)).toThrow(/has a schema default/);
    expect(() => a.float('beta')).toThrow(/not in the op's schema/);
    expect(() => a.int('alpha')).toThrow(/read as int, but the op's schema says float/);
  });
});
