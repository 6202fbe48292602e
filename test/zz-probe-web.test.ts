import * as ort from 'onnxruntime-web';
import { it } from 'vitest';
import { Graph } from '../packages/core/src/ir/graph.js';
import { serializeModel } from '../packages/core/src/ir/serialize.js';
it('probe', async () => {
  const t0 = Date.now();
  const g = new Graph('p');
  const x = g.input('x', 'float64', [3]);
  g.output(g.Exp(x), 'y');
  const s = await ort.InferenceSession.create(serializeModel(g), { executionProviders: ['wasm'] });
  const r = await s.run({ x: new ort.Tensor('float64', new Float64Array([1, 2, 3]), [3]) });
  console.log(r.y.data, Date.now() - t0, ort.env.wasm.numThreads, ort.env.versions);
});
