import * as ort from 'onnxruntime-node';
import { it } from 'vitest';
import './stubs.js';
import { Graph, Attrs } from '../packages/core/src/ir/graph.js';
import { serializeModel } from '../packages/core/src/ir/serialize.js';
import { tensorData } from '../packages/core/src/ir/tensor.js';
import { ConvTranspose } from '../packages/core/src/ops/conv-transpose.js';
it('probe', async () => {
  for (const attrs of [
    { strides: [2, 2], output_shape: [4, 6] },
    { auto_pad: 'SAME_UPPER', strides: [2, 2], kernel_shape: [1, 1] },
    { strides: [2, 2], output_shape: [5, 5], auto_pad: 'SAME_UPPER' },
  ] as Record<string, never>[]) {
    const g = new Graph('p');
    const x = g.input('x', 'float32', [1, 1, 3, 3]);
    const ks = (attrs as {kernel_shape?: number[]}).kernel_shape ?? [3, 3]; const w = g.input("w", "float32", [1, 1, ...ks]);
    let y;
    try { y = g.ConvTranspose(x, w, undefined, attrs); } catch (e) { console.log(JSON.stringify(attrs), String(e)); continue; }
    g.output(y, 'y');
    const s = await ort.InferenceSession.create(serializeModel(g));
    const xd = Float32Array.from({ length: 9 }, (_, i) => i + 1);
    const wd = Float32Array.from({ length: ks[0]*ks[1] }, (_, i) => (i === 0 ? 1 : 0)); // kernel picks position 0: Y[o*s - pb] = X[o]
    try {
      const r = await s.run({ x: new ort.Tensor('float32', xd, [1, 1, 3, 3]), w: new ort.Tensor("float32", wd, [1, 1, ...ks]) });
      const ref = ConvTranspose.reference!([tensorData('float64', [1,1,3,3], xd), tensorData("float64", [1,1,...ks], wd)], new Attrs(g.nodes[g.nodes.length-1].attrs, 'x'))[0];
      console.log(JSON.stringify(attrs), 'ort', r.y.dims, Array.from(r.y.data as Float32Array).join(','), '\n   ref', ref.shape, Array.from(ref.data as Float64Array).join(','));
    } catch (e) { console.log(JSON.stringify(attrs), 'ORT error', String(e).slice(0, 200)); }
  }
});
