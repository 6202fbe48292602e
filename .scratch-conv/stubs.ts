// Scratch-only stand-ins for Transpose/Slice until the real ops land (never registered in the repo).
import { lookupOp, registerOp } from '../packages/core/src/ops/registry.js';
import '../packages/core/src/ops/index.js';
import { constInts, need } from '../packages/core/src/ops/common.js';
import type { OpDef } from '../packages/core/src/ops/op-def.js';
const T: OpDef = { opType: 'Transpose', sinceVersion: 13, inputs: [1, 1], attrs: { perm: 'ints' }, infer(ctx) {
  const x = need(ctx, 0); const perm = ctx.attrs.ints('perm'); return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }]; } };
const S: OpDef = { opType: 'Slice', sinceVersion: 13, inputs: [3, 5], attrs: {}, infer(ctx) {
  const x = need(ctx, 0); const st = constInts(ctx.inputs[1], 's')!; const en = constInts(ctx.inputs[2], 'e')!; const ax = constInts(ctx.inputs[3], 'a')!;
  const shape = [...x.shape]; ax.forEach((a, i) => { shape[a] = en[i] - st[i]; }); return [{ dtype: x.dtype, shape }]; } };
if (!lookupOp('Transpose')) registerOp(T);
if (!lookupOp('Slice')) registerOp(S);
