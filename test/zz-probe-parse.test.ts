import onnxProto from 'onnx-proto';
import { it } from 'vitest';
import { Graph } from '../packages/core/src/ir/graph.js';
import { parseModel, serializeModel } from '../packages/core/src/ir/serialize.js';
import { tensorData } from '../packages/core/src/ir/tensor.js';
import { mulberry32 } from '../packages/core/src/testing/op-check.js';
it('probe', () => {
  const g = new Graph('p');
  const x = g.input('x', 'float32', ['batch', 3]);
  const w = g.initializer('w', tensorData('float32', [3], [1, 2, 3]));
  g.output(g.Exp(g.Mul(x, w)), 'y');
  const bytes = serializeModel(g);
  const kinds: Record<string, number> = {};
  const tryParse = (b: Uint8Array, label: string) => {
    try { parseModel(b, 'm.onnx'); kinds.ok = (kinds.ok ?? 0) + 1; if (label) console.log('OK', label); }
    catch (e) { const k = `${(e as Error).constructor.name}: ${(e as Error).message.replace(/[0-9]+/g, "N").slice(0, 140)}`; kinds[k] = (kinds[k] ?? 0) + 1; }
  };
  for (let cut = 1; cut < bytes.length; cut++) tryParse(bytes.slice(0, cut), '');
  const rand = mulberry32(3);
  for (let k = 0; k < 2000; k++) { const n = 1 + Math.floor(rand() * 300); tryParse(Uint8Array.from({ length: n }, () => Math.floor(rand() * 256)), ''); }
  // flip bytes
  for (let k = 0; k < 3000; k++) { const b = Uint8Array.from(bytes); const i = Math.floor(rand() * b.length); b[i] = Math.floor(rand() * 256); tryParse(b, ''); }
  tryParse(onnxProto.onnx.TensorProto.encode({ name: 'x', dims: [2], dataType: 1, floatData: [1, 2] }).finish(), 'tensorproto');
  console.log(kinds);
});
