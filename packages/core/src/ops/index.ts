/**
 * Every operator, one line each. Adding an op is one file plus one line:
 *
 * 1. `ops/<op-type-in-kebab-case>.ts` (`mat-mul.ts`) exports the definition under the op's type, annotated with
 *    its builder's signature: `export const MatMul: Op<typeof matMul> = { opType: 'MatMul', sinceVersion, inputs,
 *    attrs, build: matMul, infer, grad, reference, cases }`, with the builder `function matMul(g: Graph, a: Value,
 *    b: Value): Value { return g.op1('MatMul', [a, b]); }` above it. `attrs` is the ONNX attribute schema, defaults
 *    included (`alpha: { type: 'float', default: 0.01 }`): rules read them with `attrs.float('alpha')`, and the
 *    builder leaves an attribute the caller did not give out of the node. The gradient rule emits ONNX nodes through
 *    the same builder (one line of math above it, e.g. `// dA = dY · Bᵀ`) and returns gradients in the broadcast
 *    shape; autodiff reduces them to the input's shape. An op without a gradient says `grad: 'none'`.
 * 2. One line here: `export { MatMul } from './mat-mul.js';` (the export name must be the op type).
 *
 * ops/builder.ts registers every op listed here and installs `g.MatMul(…)` on Graph from `build`, typed from the
 * annotation; the op suite (ops.test.ts, test/ops-web.test.ts) runs its cases on onnxruntime-node and -web.
 * Elementwise ops can use the factories in common.ts (unaryOp, binaryOp), Reduce* ops reduce.ts's reduceOp.
 */
export { Abs } from './abs.js';
export { Add } from './add.js';
export { ArgMax } from './arg-max.js';
export { Cast } from './cast.js';
export { Clip } from './clip.js';
export { Concat } from './concat.js';
export { Constant } from './constant.js';
export { ConstantOfShape } from './constant-of-shape.js';
export { Conv } from './conv.js';
export { ConvTranspose } from './conv-transpose.js';
export { Div } from './div.js';
export { Elu } from './elu.js';
export { Equal } from './equal.js';
export { Exp } from './exp.js';
export { Expand } from './expand.js';
export { Flatten } from './flatten.js';
export { Floor } from './floor.js';
export { Gather } from './gather.js';
export { GatherElements } from './gather-elements.js';
export { Gemm } from './gemm.js';
export { Greater } from './greater.js';
export { GreaterOrEqual } from './greater-or-equal.js';
export { Identity } from './identity.js';
export { IsInf, IsNaN } from './is-nan.js';
export { LeakyRelu } from './leaky-relu.js';
export { Less } from './less.js';
export { LessOrEqual } from './less-or-equal.js';
export { Log } from './log.js';
export { LogSoftmax } from './log-softmax.js';
export { And, Not, Or } from './logical.js';
export { Loop } from './loop.js';
export { MatMul } from './mat-mul.js';
export { Max } from './max.js';
export { Min } from './min.js';
export { Mul } from './mul.js';
export { Neg } from './neg.js';
export { Pad } from './pad.js';
export { Pow } from './pow.js';
export { Reciprocal } from './reciprocal.js';
export { ReduceLogSumExp } from './reduce-log-sum-exp.js';
export { ReduceMax, ReduceMin } from './reduce-max.js';
export { ReduceMean } from './reduce-mean.js';
export { ReduceSum } from './reduce-sum.js';
export { ReduceSumSquare } from './reduce-sum-square.js';
export { Relu } from './relu.js';
export { Reshape } from './reshape.js';
export { ScatterElements } from './scatter-elements.js';
export { Shape, Size } from './shape.js';
export { Sigmoid } from './sigmoid.js';
export { Sign } from './sign.js';
export { Slice } from './slice.js';
export { Softmax } from './softmax.js';
export { Softplus } from './softplus.js';
export { Split } from './split.js';
export { Sqrt } from './sqrt.js';
export { Squeeze } from './squeeze.js';
export { Sub } from './sub.js';
export { Sum } from './sum.js';
export { Tanh } from './tanh.js';
export { Tile } from './tile.js';
export { Transpose } from './transpose.js';
export { Unsqueeze } from './unsqueeze.js';
export { Where } from './where.js';
