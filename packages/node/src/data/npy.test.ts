import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NpyTensor } from './npy.js';
import { encodeNpy, readNpy, writeNpy } from './npy.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'onnxvae-npy-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// Files written by numpy 2.4.6 (np.save, or np.lib.format.write_array for versions 2.0 and 3.0), as hex.
const pad = (k: number) => '20'.repeat(k);
const NUMPY = {
  // np.array([[1.5, -2], [0, 3]], dtype='<f4')
  f4: `934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2032292c207d${pad(58)}0a0000c03f000000c00000000000004040`,
  // np.array([1.0, -2.5], dtype='>f8')
  beF8: `934e554d5059010076007b276465736372273a20273e6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d${pad(60)}0a3ff0000000000000c004000000000000`,
  // np.arange(4, dtype='<i4').reshape(2, 2).T
  fortran: `934e554d5059010076007b276465736372273a20273c6934272c2027666f727472616e5f6f72646572273a20547275652c20277368617065273a2028322c2032292c207d${pad(59)}0a00000000010000000200000003000000`,
  // np.array([1, -2, 3], dtype='<i8'), format 2.0
  v2: `934e554d50590200740000007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d${pad(58)}0a0100000000000000feffffffffffffff0300000000000000`,
  // np.arange(6, dtype=np.uint8).reshape(2, 3), format 3.0
  v3: `934e554d50590300740000007b276465736372273a20277c7531272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d${pad(56)}0a000102030405`,
  // np.array([True, False])
  b1: `934e554d5059010076007b276465736372273a20277c6231272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d${pad(60)}0a0100`,
  // np.float64(7.0), a 0-d array
  scalar: `934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028292c207d${pad(62)}0a0000000000001c40`,
};
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function writeBytes(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('.npy files written by numpy', () => {
  it('fixtures are the 128-byte-header files numpy writes', () => {
    for (const [k, h] of Object.entries(NUMPY)) expect(fromHex(h).length, k).toBeGreaterThan(128);
  });

  it('reads float32 (v1.0)', () => {
    const t = readNpy(writeBytes('f4.npy', fromHex(NUMPY.f4)));
    expect(t).toEqual({ dtype: 'float32', shape: [2, 2], data: new Float32Array([1.5, -2, 0, 3]) });
  });

  it('reads big-endian float64', () => {
    const t = readNpy(writeBytes('be.npy', fromHex(NUMPY.beF8)));
    expect(t).toEqual({ dtype: 'float64', shape: [2], data: new Float64Array([1, -2.5]) });
  });

  it('reads format 2.0 and 3.0 headers', () => {
    expect(readNpy(writeBytes('v2.npy', fromHex(NUMPY.v2)))).toEqual({
      dtype: 'int64',
      shape: [3],
      data: new BigInt64Array([1n, -2n, 3n]),
    });
    expect(readNpy(writeBytes('v3.npy', fromHex(NUMPY.v3)))).toEqual({
      dtype: 'uint8',
      shape: [2, 3],
      data: new Uint8Array([0, 1, 2, 3, 4, 5]),
    });
  });

  it('reads bool and 0-d arrays', () => {
    expect(readNpy(writeBytes('b1.npy', fromHex(NUMPY.b1)))).toEqual({ dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) });
    expect(readNpy(writeBytes('sc.npy', fromHex(NUMPY.scalar)))).toEqual({ dtype: 'float64', shape: [], data: new Float64Array([7]) });
  });

  it('writes byte-for-byte what numpy writes', () => {
    expect(toHex(encodeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array([1.5, -2, 0, 3]) }))).toBe(NUMPY.f4);
    expect(toHex(encodeNpy({ dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) }))).toBe(NUMPY.b1);
    expect(toHex(encodeNpy({ dtype: 'float64', shape: [], data: new Float64Array([7]) }))).toBe(NUMPY.scalar);
  });

  it('rejects fortran_order=True with advice', () => {
    const path = writeBytes('fortran.npy', fromHex(NUMPY.fortran));
    expect(() => readNpy(path)).toThrow(`${path}: fortran_order=True is not supported`);
    expect(() => readNpy(path)).toThrow(/np\.ascontiguousarray/);
  });
});

describe('.npy round trip through real files', () => {
  const samples: NpyTensor[] = [
    { dtype: 'float32', shape: [2, 3], data: new Float32Array([0, 0.25, 1, -0, Number.NaN, 3e38]) },
    { dtype: 'float64', shape: [3, 1], data: new Float64Array([Math.E, -1e-300, Number.NEGATIVE_INFINITY]) },
    { dtype: 'int32', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
    { dtype: 'int64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
    { dtype: 'uint8', shape: [2, 2, 2], data: Uint8Array.from({ length: 8 }, (_, i) => 255 - i) },
    { dtype: 'bool', shape: [3], data: new Uint8Array([0, 1, 1]) },
    { dtype: 'float32', shape: [0, 5], data: new Float32Array(0) },
    { dtype: 'uint8', shape: [123456789012], data: new Uint8Array(0) }, // header only: never written
  ];
  for (const t of samples.slice(0, 7)) {
    it(`${t.dtype} [${t.shape.join(', ')}]`, () => {
      const path = join(dir, `${t.dtype}-${t.shape.join('x')}.npy`);
      writeNpy(path, t);
      const back = readNpy(path);
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      const a = new Uint8Array(back.data.buffer, back.data.byteOffset, back.data.byteLength);
      const b = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      expect(Array.from(a)).toEqual(Array.from(b)); // bit-exact, including NaN and -0
    });
  }

  it('aligns the data start to 64 bytes', () => {
    for (const t of samples.slice(0, 7)) {
      const bytes = encodeNpy(t);
      const headerLen = bytes[8] | (bytes[9] << 8);
      expect((10 + headerLen) % 64).toBe(0);
      expect(bytes[10 + headerLen - 1]).toBe(0x0a);
    }
  });

  it('refuses data that does not match its shape', () => {
    expect(() => encodeNpy(samples[7])).toThrow(/123456789012 elements but the data has 0/);
  });
});

describe('.npy rejects bad files with errors naming the file', () => {
  const header = (dict: string, data: number[] = [], major = 1): Uint8Array => {
    const preamble = major === 1 ? 10 : 12;
    const total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
    const h = `${dict}${' '.repeat(total - preamble - dict.length - 1)}\n`;
    const out = new Uint8Array(total + data.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
    if (major === 1) new DataView(out.buffer).setUint16(8, h.length, true);
    else new DataView(out.buffer).setUint32(8, h.length, true);
    out.set(Buffer.from(h, 'latin1'), preamble);
    out.set(data, total);
    return out;
  };

  it('reads the Python 2 "L" suffix and double-quoted keys', () => {
    const path = writeBytes('py2.npy', header(`{"descr": "|u1", "fortran_order": False, "shape": (2L, 1L)}`, [9, 8]));
    expect(readNpy(path)).toEqual({ dtype: 'uint8', shape: [2, 1], data: new Uint8Array([9, 8]) });
  });

  it('a missing file', () => {
    const path = join(dir, 'missing.npy');
    expect(() => readNpy(path)).toThrow(`data file not found: ${path}`);
  });

  it('a wrong magic', () => {
    const path = writeBytes('magic.npy', new Uint8Array([0, 0, 8, 1, 0, 0, 0, 1, 5, 0, 0, 0]));
    expect(() => readNpy(path)).toThrow(`${path}: wrong magic`);
  });

  it('an unsupported version', () => {
    const bytes = header(`{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }`, [1]);
    bytes[6] = 4;
    const path = writeBytes('v4.npy', bytes);
    expect(() => readNpy(path)).toThrow(`${path}: unsupported .npy format version 4.0`);
  });

  it('truncated data, with expected and actual sizes', () => {
    const bytes = fromHex(NUMPY.f4);
    const path = writeBytes('short.npy', bytes.subarray(0, bytes.length - 3));
    expect(() => readNpy(path)).toThrow(`${path}: .npy file is truncated: shape [2, 2] of '<f4' needs 144 bytes, got 141`);
  });

  it('a truncated header', () => {
    const path = writeBytes('short-header.npy', fromHex(NUMPY.f4).subarray(0, 60));
    expect(() => readNpy(path)).toThrow(`${path}: truncated .npy header: expected 128 bytes, got 60`);
  });

  it('trailing bytes', () => {
    const path = writeBytes('long.npy', new Uint8Array([...fromHex(NUMPY.b1), 1]));
    expect(() => readNpy(path)).toThrow(/corrupt \(trailing bytes\).*needs 130 bytes, got 131/);
  });

  it('an unsupported or structured dtype', () => {
    const f2 = writeBytes('f2.npy', header(`{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }`, [0, 0]));
    expect(() => readNpy(f2)).toThrow(`${f2}: unsupported dtype descr '<f2'; supported are f4, f8, i4, i8, u1, b1`);
    const rec = writeBytes('rec.npy', header(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }`, [0, 0, 0, 0]));
    expect(() => readNpy(rec)).toThrow(/unsupported dtype descr \[\["a","<f4"\]\] \(structured or missing\)/);
  });

  it('a malformed header', () => {
    const bad = writeBytes('bad.npy', header(`{'descr': '<f4', 'fortran_order': False, 'shape': (1,`));
    expect(() => readNpy(bad)).toThrow(`${bad}: malformed .npy header`);
    const neg = writeBytes('neg.npy', header(`{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }`));
    expect(() => readNpy(neg)).toThrow(`${neg}: .npy header has an invalid shape [-1]`);
    const nofo = writeBytes('nofo.npy', header(`{'descr': '<f4', 'shape': (0,), }`));
    expect(() => readNpy(nofo)).toThrow(/no valid fortran_order/);
    const list = writeBytes('list.npy', header(`['descr']`));
    expect(() => readNpy(list)).toThrow(/header is not a dict/);
  });

  it('reads a version 2 header written by hand', () => {
    const path = writeBytes('v2-hand.npy', header(`{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }`, [1, 1, 0, 0], 2));
    expect(readNpy(path).data).toEqual(new Int32Array([257]));
  });
});
