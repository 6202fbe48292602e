/** Feed and fetch helpers: dtype conversion without needless copies, one-hot labels, host copies of outputs. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { tensorData } from '../ir/tensor.js';
import { asFloat, floatTensor, hostFloat32, meanOf, namedFeeds, oneHotTensor, scalarTensor, toTensorData } from './tensors.js';

describe('tensor helpers', () => {
  it('convert between float32 and float64 only when needed', () => {
    const f32 = Float32Array.of(1, 2.5);
    expect(asFloat(f32, 'float32')).toBe(f32);
    expect(asFloat(f32, 'float32', { copy: true })).not.toBe(f32);
    const f64 = asFloat(f32, 'float64');
    expect(f64).toBeInstanceOf(Float64Array);
    expect(Array.from(f64)).toEqual([1, 2.5]);
    expect(asFloat(f64, 'float64')).toBe(f64);
    expect(asFloat([0.1], 'float32')[0]).toBe(Math.fround(0.1));
    const t = floatTensor(ort, 'float64', f32, [1, 2]);
    expect([t.type, [...t.dims]]).toEqual(['float64', [1, 2]]);
    expect(scalarTensor(ort, 'float32', 3).dims).toEqual([]);
  });

  it('make one-hot label feeds and feeds by name, and copy outputs to the host', async () => {
    const y = oneHotTensor(ort, 'float32', [2, 0], 3);
    expect([...y.dims]).toEqual([2, 3]);
    expect(Array.from(y.data as Float32Array)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => oneHotTensor(ort, 'float32', [3], 3)).toThrow(/label/);
    const feeds = namedFeeds(ort, 'float64', ['w'], { w: tensorData('float32', [2], [1, 2]) });
    expect(feeds.w.type).toBe('float64');
    expect(() => namedFeeds(ort, 'float32', ['v'], {}, 'parameter')).toThrow(/parameter 'v' is missing/);
    const src = Float32Array.of(1, 2, 3, 6);
    const out = await hostFloat32(floatTensor(ort, 'float32', src, [4]));
    expect(out).not.toBe(src);
    expect(Array.from(out)).toEqual([1, 2, 3, 6]);
    expect(meanOf(floatTensor(ort, 'float32', src, [4]))).toBe(3);
    const td = await toTensorData(floatTensor(ort, 'float64', src, [2, 2]));
    expect([td.dtype, td.shape, td.data instanceof Float64Array]).toEqual(['float64', [2, 2], true]);
  });
});
