import { describe, expect, it } from 'vitest';
import { Graph } from '../ir/graph.js';
import { lookupOp, registeredOps, registerOp } from '../ir/op-registry.js';
import { OPS } from './builder.js';
import * as table from './index.js';

describe('the op builder', () => {
  it('registers every op ops/index.ts lists, under its own type', () => {
    const listed = Object.keys(table).sort();
    expect(OPS.map((d) => d.opType).sort()).toEqual(listed);
    for (const name of listed) expect(lookupOp(name)).toBe((table as Record<string, unknown>)[name]);
    expect(registeredOps().length).toBeGreaterThanOrEqual(listed.length);
  });

  it('installs one Graph method per op with a build, and none for the others', () => {
    const g = new Graph('methods') as unknown as Record<string, unknown>;
    for (const def of OPS) {
      if (def.build) expect(typeof g[def.opType], def.opType).toBe('function');
      else expect(g[def.opType], def.opType).toBeUndefined();
    }
    // The methods are not own properties of a graph: they live on the prototype, like Graph's own methods.
    expect(Object.keys(g)).not.toContain('MatMul');
    expect((g.MatMul as { name: string }).name).toBe('MatMul');
  });

  it('builds through the op definition: g.Slice(x, …) adds a Slice node with constant inputs', () => {
    const g = new Graph('slice');
    const x = g.input('x', 'float32', [4, 6]);
    const y = g.Slice(x, [1], [3], [1]);
    expect(y.shape).toEqual([4, 2]);
    expect(y.producer?.opType).toBe('Slice');
    expect(y.producer?.inputs.map((v) => v?.producer?.opType ?? v?.name)).toEqual(['x', 'Constant', 'Constant', 'Constant']);
    const [h, t] = g.Split(x, 1, [2, 4]);
    expect([h.shape, t.shape]).toEqual([
      [4, 2],
      [4, 4],
    ]);
    expect(g.Add(x, 1).producer?.inputs[1]?.dtype).toBe('float32');
  });

  it('rejects a schema default of the wrong type', () => {
    expect(() =>
      registerOp({
        opType: 'BadDefault',
        domain: 'test.onnxvae.builder',
        sinceVersion: 1,
        inputs: [1, 1],
        attrs: { k: { type: 'int', default: 0.5 } },
        infer: () => [],
      }),
    ).toThrow(/default 0.5 of attribute 'k' is not a int/);
  });
});
