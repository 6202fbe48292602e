import { describe, expect, it } from 'vitest';
import { Graph } from '../ir/graph.js';
import { ShapeError } from '../ir/shape.js';
import './builder.js';

/**
 * Building a mismatched graph fails at once, in the builder call, with a ShapeError that names the node and the
 * shapes involved (the shape rule's message plus the node's inputs).
 */
interface BadGraph {
  name: string;
  build: (g: Graph) => unknown;
  /** Substrings the message must contain: the node, the shapes, what was wrong. */
  says: string[];
}

const bad: BadGraph[] = [
  {
    name: 'MatMul inner dims 3 vs 4',
    build: (g) => g.MatMul(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4, 5])),
    says: ["node 'MatMul' (MatMul)", 'inner dims differ', 'A [2, 3] has 3 columns', 'B [4, 5] has 4 rows'],
  },
  {
    name: 'MatMul batch dims that do not broadcast',
    build: (g) => g.MatMul(g.input('a', 'float32', [2, 2, 3]), g.input('b', 'float32', [3, 3, 4])),
    says: ["node 'MatMul'", 'cannot broadcast [2] with [3]', 'a: float32[2, 2, 3]', 'b: float32[3, 3, 4]'],
  },
  {
    name: 'Add of shapes that do not broadcast',
    build: (g) => g.Add(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4])),
    says: ["node 'Add' (Add)", 'cannot broadcast [2, 3] with [4]', 'a: float32[2, 3]', 'b: float32[4]'],
  },
  {
    name: 'Concat of different ranks',
    build: (g) => g.Concat([g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [2, 3, 1])], 1),
    says: ["node 'Concat' (Concat)", 'one rank', '[2, 3], [2, 3, 1]'],
  },
  {
    name: 'Concat with another axis differing',
    build: (g) => g.Concat([g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4, 5])], 1),
    says: ["node 'Concat'", 'dim 0 differs (2 vs 4)', '[2, 3], [4, 5]'],
  },
  {
    name: 'Reshape to another element count',
    build: (g) => g.Reshape(g.input('x', 'float32', [2, 3]), [4, 2]),
    says: ["node 'Reshape' (Reshape)", 'cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)'],
  },
  {
    name: 'Gemm with a C that does not broadcast to [M, N]',
    build: (g) => g.Gemm(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [3, 4]), g.input('c', 'float32', [3])),
    says: ["node 'Gemm' (Gemm)", 'C [3] does not broadcast', '[2, 4]', 'c: float32[3]'],
  },
  {
    name: 'Gemm with C broadcasting the wrong way',
    build: (g) => g.Gemm(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [3, 4]), g.input('c', 'float32', [3, 2, 4])),
    says: ["node 'Gemm'", 'C [3, 2, 4] does not broadcast', '[2, 4]'],
  },
  {
    name: 'Gemm with transB and mismatched inner dims',
    build: (g) => g.Gemm(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [3, 4]), undefined, { transB: 1 }),
    says: ["node 'Gemm'", 'inner dims differ', 'Bᵀ of [3, 4] has 4 rows'],
  },
  {
    name: 'Where with a non-bool condition',
    build: (g) => g.Where(g.input('c', 'float32', [2, 3]), g.input('a', 'float32', [2, 3]), 0),
    says: ["node 'Where' (Where)", "condition 'c' must be bool, got float32", 'c: float32[2, 3]'],
  },
  {
    name: 'Cast to an unknown type code',
    build: (g) => g.op1('Cast', [g.input('x', 'float32', [2, 3])], { to: 99 }),
    says: ["node 'Cast' (Cast)", 'unsupported ONNX element type 99', 'x: float32[2, 3]'],
  },
  {
    name: 'Transpose with a perm that is not a permutation',
    build: (g) => g.Transpose(g.input('x', 'float32', [2, 3, 4]), [0, 0, 1]),
    says: ["node 'Transpose'", 'perm [0, 0, 1] is not a permutation', '[2, 3, 4]'],
  },
  {
    name: 'Split sizes that do not add up',
    build: (g) => g.Split(g.input('x', 'float32', [2, 6]), 1, [2, 3]),
    says: ["node 'Split'", 'split sizes [2, 3] add up to 5', 'axis 1 of [2, 6] has 6'],
  },
  {
    name: 'Slice with step 0',
    build: (g) => g.Slice(g.input('x', 'float32', [3, 4]), [0], [2], [1], [0]),
    says: ["node 'Slice'", 'step 0 on axis 1', 'x: float32[3, 4]'],
  },
  {
    name: 'Gather with a constant index out of range',
    build: (g) => g.Gather(g.input('x', 'float32', [3, 4]), g.ints([1, 3]), 0),
    says: ["node 'Gather'", 'index 3', 'out of range [-3, 2] for axis 0 of [3, 4]'],
  },
  {
    name: 'Tile with one repeat too few',
    build: (g) => g.Tile(g.input('x', 'float32', [2, 3]), [2]),
    says: ["node 'Tile'", 'repeats [2] must have one entry per axis of [2, 3]'],
  },
  {
    name: 'Pad with the wrong number of pads',
    build: (g) => g.op1('Pad', [g.input('x', 'float32', [2, 3]), g.ints([1, 1])]),
    says: ["node 'Pad'", 'pads has 2 values', 'x: float32[2, 3]'],
  },
  {
    name: 'Softmax with an axis out of range',
    build: (g) => g.Softmax(g.input('x', 'float32', [2, 3]), 2),
    says: ["node 'Softmax'", 'axis 2 is out of range for rank 2', 'x: float32[2, 3]'],
  },
  {
    name: 'ScatterElements with updates unlike indices',
    build: (g) => g.op1('ScatterElements', [g.input('x', 'float32', [4]), g.ints([0, 1]), g.input('u', 'float32', [3])]),
    says: ["node 'ScatterElements'", 'indices and updates must have one shape', 'indices [2], updates [3]'],
  },
];

describe('mismatched graphs fail at build time, naming the node and the shapes', () => {
  it.each(bad.map((b) => [b.name, b] as const))('%s', (_n, b) => {
    const g = new Graph('bad');
    let err: unknown;
    try {
      b.build(g);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShapeError);
    for (const s of b.says) expect((err as Error).message).toContain(s);
  });
});

describe('symbolic dims are not mismatches', () => {
  it('MatMul accepts a symbolic inner dim against a static one, and keeps the static one', () => {
    const g = new Graph('ok');
    const y = g.MatMul(g.input('a', 'float32', ['batch', 'k']), g.input('b', 'float32', [3, 4]));
    expect(y.shape).toEqual(['batch', 4]);
  });
  it('Concat takes the static dim where one input has a symbolic one', () => {
    const g = new Graph('ok');
    const y = g.Concat([g.input('a', 'float32', ['n', 3]), g.input('b', 'float32', [2, 5])], 1);
    expect(y.shape).toEqual([2, 8]);
  });
  it('Gemm accepts a symbolic C dim', () => {
    const g = new Graph('ok');
    const y = g.Gemm(g.input('a', 'float32', ['batch', 3]), g.input('b', 'float32', [3, 4]), g.input('c', 'float32', ['m', 4]));
    expect(y.shape).toEqual(['batch', 4]);
  });
});
