import * as ortN from 'onnxruntime-node';
import * as ortW from 'onnxruntime-web';
import { it } from 'vitest';
import '../packages/core/src/index.js';
import { registeredOps } from '../packages/core/src/ops/registry.js';
import { checkOpCase } from '../packages/core/src/testing/op-check.js';
ortW.env.wasm.numThreads = 1;
it('probe', async () => {
  const rows: string[] = [];
  const times: Record<string, number> = {};
  for (const def of registeredOps()) for (const [i, c] of (def.cases ?? []).entries()) {
    const t0 = performance.now();
    const n = await checkOpCase(ortN, def, c).then((r) => r.dtype + (r.gradErr.length ? ` g${r.gradErr.length} maxerr=${Math.max(...r.gradErr.map(g=>g.err)).toExponential(1)}` : ' nograd'), (e) => `ERR ${(e as Error).message.slice(0, 80)}`);
    const t1 = performance.now();
    const w = await checkOpCase(ortW, def, c).then((r) => r.dtype + (r.gradErr.length ? ` g${r.gradErr.length} maxerr=${Math.max(...r.gradErr.map(g=>g.err)).toExponential(1)}` : ' nograd'), (e) => `ERR ${(e as Error).message.slice(0, 80)}`);
    const t2 = performance.now();
    times.node = (times.node ?? 0) + t1 - t0; times.web = (times.web ?? 0) + t2 - t1;
    if (n.split(' ')[0] !== w.split(' ')[0] || c.dtype === 'float32' || n.startsWith('float32')) rows.push(`${def.opType} ${c.name ?? i}: req=${c.dtype ?? 'float64'} node=${n} web=${w}`);
  }
  console.log(rows.join('\n'));
  console.log(times);
}, 600000);
