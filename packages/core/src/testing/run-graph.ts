/** Test helper: serialize a graph, run it once on an ORT module, return outputs as float64 arrays. */
import type { Graph } from '../ir/graph.js';
import { serializeModel } from '../ir/serialize.js';
import type { TensorData } from '../ir/tensor.js';
import type { OrtModule } from '../runtime/runtime.js';
import { toOrtTensor } from '../runtime/tensors.js';

export async function runGraph(ort: OrtModule, g: Graph, feeds: Record<string, TensorData>): Promise<Record<string, number[]>> {
  const s = await ort.InferenceSession.create(serializeModel(g));
  const f: Record<string, ReturnType<typeof toOrtTensor>> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = toOrtTensor(ort, v);
  const out = await s.run(f);
  const res: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(out)) res[k] = Array.from(v.data as Float64Array, Number);
  await s.release();
  return res;
}
