/** Every operator the builder knows: one line each. */
import { Abs } from './abs.js';
import { Add } from './add.js';
import { ArgMax } from './arg-max.js';
import { Cast } from './cast.js';
import { Clip } from './clip.js';
import { Concat } from './concat.js';
import { Constant } from './constant.js';
import { ConstantOfShape } from './constant-of-shape.js';
import { Conv } from './conv.js';
import { ConvTranspose } from './conv-transpose.js';
import { Div } from './div.js';
import { Elu } from './elu.js';
import { Equal } from './equal.js';
import { Exp } from './exp.js';
import { Expand } from './expand.js';
import { Flatten } from './flatten.js';
import { Floor } from './floor.js';
import { Gather } from './gather.js';
import { GatherElements } from './gather-elements.js';
import { Gemm } from './gemm.js';
import { Greater } from './greater.js';
import { GreaterOrEqual } from './greater-or-equal.js';
import { Identity } from './identity.js';
import { IsInf, IsNaN } from './is-nan.js';
import { LeakyRelu } from './leaky-relu.js';
import { Less } from './less.js';
import { LessOrEqual } from './less-or-equal.js';
import { Log } from './log.js';
import { LogSoftmax } from './log-softmax.js';
import { And, Not, Or } from './logical.js';
import { Loop } from './loop.js';
import { MatMul } from './mat-mul.js';
import { Max } from './max.js';
import { Min } from './min.js';
import { Mul } from './mul.js';
import { Neg } from './neg.js';
import type { OpDef } from './op-def.js';
import { Pad } from './pad.js';
import { Pow } from './pow.js';
import { Reciprocal } from './reciprocal.js';
import { ReduceLogSumExp } from './reduce-log-sum-exp.js';
import { ReduceMax, ReduceMin } from './reduce-max.js';
import { ReduceMean } from './reduce-mean.js';
import { ReduceSum } from './reduce-sum.js';
import { ReduceSumSquare } from './reduce-sum-square.js';
import { registerOp } from './registry.js';
import { Relu } from './relu.js';
import { Reshape } from './reshape.js';
import { ScatterElements } from './scatter-elements.js';
import { Shape, Size } from './shape.js';
import { Sigmoid } from './sigmoid.js';
import { Sign } from './sign.js';
import { Slice } from './slice.js';
import { Softmax } from './softmax.js';
import { Softplus } from './softplus.js';
import { Split } from './split.js';
import { Sqrt } from './sqrt.js';
import { Squeeze } from './squeeze.js';
import { Sub } from './sub.js';
import { Sum } from './sum.js';
import { Tanh } from './tanh.js';
import { Tile } from './tile.js';
import { Transpose } from './transpose.js';
import { Unsqueeze } from './unsqueeze.js';
import { Where } from './where.js';

export const OPS: OpDef[] = [
  Abs,
  Add,
  And,
  Cast,
  Clip,
  Constant,
  Div,
  Elu,
  Equal,
  Exp,
  Floor,
  Greater,
  GreaterOrEqual,
  Identity,
  IsInf,
  IsNaN,
  LeakyRelu,
  Less,
  LessOrEqual,
  Log,
  Max,
  Min,
  Mul,
  Neg,
  Not,
  Or,
  Pow,
  Reciprocal,
  Relu,
  Sigmoid,
  Sign,
  Softplus,
  Sqrt,
  Sub,
  Sum,
  Tanh,
  Where,
  ConstantOfShape,
  Expand,
  ReduceLogSumExp,
  ReduceMax,
  ReduceMean,
  ReduceMin,
  ReduceSum,
  ReduceSumSquare,
  Reshape,
  Shape,
  Size,
  Squeeze,
  Unsqueeze,
  ArgMax,
  Concat,
  Flatten,
  Gather,
  GatherElements,
  Gemm,
  LogSoftmax,
  MatMul,
  Pad,
  ScatterElements,
  Slice,
  Softmax,
  Split,
  Tile,
  Transpose,
  // (more ops are added below, one line each)
  Conv,
  ConvTranspose,
  Loop,
];

for (const op of OPS) registerOp(op);

export type { CaseInput, GradContext, GradRule, InferContext, OpCase, OpDef } from './op-def.js';
export { lookupOp, registeredOps, registerOp } from './registry.js';
