/** Layers composed from ops; they never define gradients of their own. */
import type { Graph, Value } from '../ir/graph.js';
import type { ParamBinder } from './params.js';

export type Activation = 'relu' | 'tanh' | 'elu' | 'leaky_relu' | 'softplus' | 'sigmoid';
export const ACTIVATIONS: readonly Activation[] = ['relu', 'tanh', 'elu', 'leaky_relu', 'softplus', 'sigmoid'];

export function activation(g: Graph, x: Value, kind: Activation): Value {
  switch (kind) {
    case 'relu':
      return g.Relu(x);
    case 'tanh':
      return g.Tanh(x);
    case 'elu':
      return g.Elu(x, 1);
    case 'leaky_relu':
      return g.LeakyRelu(x, 0.01);
    case 'softplus':
      return g.Softplus(x);
    case 'sigmoid':
      return g.Sigmoid(x);
  }
}

/** y = x·W + b with W [in, out] (PyTorch's nn.Linear stores Wᵀ), initialized uniform(±1/√in) like PyTorch. */
export function linear(g: Graph, p: ParamBinder, name: string, x: Value, inF: number, outF: number): Value {
  return g.scope(name, () => {
    const bound = 1 / Math.sqrt(inF);
    const w = p.param(g, `${g.prefixed('weight')}`, [inF, outF], { kind: 'uniform', bound });
    const b = p.param(g, `${g.prefixed('bias')}`, [outF], { kind: 'uniform', bound });
    return g.Add(g.MatMul(x, w), b);
  });
}

/** Linear layers with an activation between them (and none after the last). */
export function mlp(g: Graph, p: ParamBinder, name: string, x: Value, sizes: readonly number[], act: Activation): Value {
  return g.scope(name, () => {
    let h = x;
    for (let i = 1; i < sizes.length; i++) {
      h = linear(g, p, `fc${i}`, h, sizes[i - 1], sizes[i]);
      if (i < sizes.length - 1) h = activation(g, h, act);
    }
    return h;
  });
}

/** 2-D convolution with weight [out, in, k, k], PyTorch's default init. */
export function conv2d(
  g: Graph,
  p: ParamBinder,
  name: string,
  x: Value,
  cin: number,
  cout: number,
  k: number,
  stride: number,
  pad: number,
): Value {
  return g.scope(name, () => {
    const bound = 1 / Math.sqrt(cin * k * k);
    const w = p.param(g, g.prefixed('weight'), [cout, cin, k, k], { kind: 'uniform', bound });
    const b = p.param(g, g.prefixed('bias'), [cout], { kind: 'uniform', bound });
    return g.Conv(x, w, b, { strides: [stride, stride], pads: [pad, pad, pad, pad] });
  });
}

/** Transposed 2-D convolution with weight [in, out, k, k] (PyTorch's layout and init). */
export function convTranspose2d(
  g: Graph,
  p: ParamBinder,
  name: string,
  x: Value,
  cin: number,
  cout: number,
  k: number,
  stride: number,
  pad: number,
): Value {
  return g.scope(name, () => {
    const bound = 1 / Math.sqrt(cout * k * k);
    const w = p.param(g, g.prefixed('weight'), [cin, cout, k, k], { kind: 'uniform', bound });
    const b = p.param(g, g.prefixed('bias'), [cout], { kind: 'uniform', bound });
    return g.ConvTranspose(x, w, b, { strides: [stride, stride], pads: [pad, pad, pad, pad] });
  });
}
