import type { DType } from '../ir/dtype.js';
import { toFloat16 } from '../ir/float16.js';
import type { Graph, Value } from '../ir/graph.js';
import { formatShape } from '../ir/shape.js';
import { type TensorData, tensorData } from '../ir/tensor.js';

/** How a parameter starts: PyTorch's defaults for Linear/Conv are uniform(±1/√fan_in). */
export type Init = { kind: 'uniform'; bound: number } | { kind: 'normal'; std: number } | { kind: 'const'; value: number };

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
}

/**
 * Where a model's parameters come from when a graph is built: graph inputs (train and eval graphs, where the host
 * feeds them), embedded initializers (deployable encoder/decoder), or given values (inside a Loop body).
 * Layers ask for parameters by name; the binder records every spec in order, so a model's parameter list is
 * whatever its layers asked for.
 */
export class ParamBinder {
  readonly specs: ParamSpec[] = [];
  private readonly bound = new Map<string, Value>();

  private constructor(
    readonly mode: 'input' | 'embed' | 'given' | 'collect',
    readonly dtype: DType,
    private readonly values?: Record<string, TensorData>,
    private readonly given?: Record<string, Value>,
    private readonly storage?: 'float16',
  ) {}

  /** Parameters become graph inputs named exactly as the parameters. */
  static inputs(dtype: DType = 'float32'): ParamBinder {
    return new ParamBinder('input', dtype);
  }
  /**
   * Parameters are embedded as initializers with these values. `storage: 'float16'` stores each as float16 (half the
   * bytes) followed by a Cast to `dtype`, so the graph computes and answers in `dtype` as before (a deployment format:
   * ONNX Runtime folds the Casts when it loads the model).
   */
  static embedded(values: Record<string, TensorData>, dtype: DType = 'float32', opts: { storage?: 'float16' } = {}): ParamBinder {
    return new ParamBinder('embed', dtype, values, undefined, opts.storage);
  }
  /** Parameters are existing values (e.g. loop-carried ones in a Loop body). */
  static given(values: Record<string, Value>, dtype: DType = 'float32'): ParamBinder {
    return new ParamBinder('given', dtype, undefined, values);
  }

  param(g: Graph, name: string, shape: number[], init: Init): Value {
    const hit = this.bound.get(name);
    if (hit) return hit;
    this.specs.push({ name, shape: [...shape], init });
    let v: Value;
    if (this.mode === 'input' || this.mode === 'collect') v = g.input(name, this.dtype, shape);
    else if (this.mode === 'embed') {
      const t = this.values?.[name];
      if (!t) throw new Error(`parameter '${name}' has no value to embed (the checkpoint lacks it)`);
      if (formatShape(t.shape) !== formatShape(shape)) {
        throw new Error(`parameter '${name}' has shape ${formatShape(t.shape)} in the checkpoint, the model needs ${formatShape(shape)}`);
      }
      if (this.storage === 'float16') {
        const half = tensorData('float16', t.shape, toFloat16(t.data as Float32Array, `parameter '${name}'`));
        v = g.Cast(g.initializer(`${name}.float16`, half), this.dtype);
      } else {
        v = g.initializer(name, t.dtype === this.dtype ? t : tensorData(this.dtype, t.shape, Array.from(t.data as Float32Array)));
      }
    } else {
      const gv = this.given?.[name];
      if (!gv) throw new Error(`parameter '${name}' was not given`);
      v = gv;
    }
    this.bound.set(name, v);
    return v;
  }

  value(name: string): Value | undefined {
    return this.bound.get(name);
  }
}

/** Draws initial values for the specs from a uniform/normal source (seeded by the caller). */
export function initParams(
  specs: readonly ParamSpec[],
  rand: { uniform(): number; normal(): number },
  dtype: DType = 'float32',
): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const t = tensorData(dtype, s.shape);
    const d = t.data as Float32Array;
    for (let i = 0; i < n; i++) {
      d[i] =
        s.init.kind === 'uniform'
          ? (2 * rand.uniform() - 1) * s.init.bound
          : s.init.kind === 'normal'
            ? rand.normal() * s.init.std
            : s.init.value;
    }
    out[s.name] = t;
  }
  return out;
}
