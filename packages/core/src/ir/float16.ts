/**
 * IEEE 754 binary16 ("half") on the host: float32/float64 values to float16 bit patterns (round to nearest, ties to
 * even, as the hardware and numpy's astype(float16) do) and back. Node 20 has no Float16Array, so the bits travel in
 * a Uint16Array, which is also how ONNX stores float16 raw data.
 */

/** The largest finite float16, 65504; anything beyond it would round to ±Infinity. */
export const FLOAT16_MAX = 65504;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The float16 bits of one number, rounded to nearest-even from its float32 value (a float64 is first rounded to
 * float32: that double rounding can differ from a direct rounding by one float16 ulp on exact ties only). Returns
 * -1 when the value is not finite or its magnitude rounds beyond 65504, so callers can say which element it was.
 */
export function float16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return -1; // Inf or NaN
  const e = exp - 127 + 15;
  if (e >= 31) return -1;
  if (e <= 0) {
    // A float16 subnormal (m/1024 · 2^-14) or zero: values below half the smallest subnormal (2^-25) round to ±0.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++; // a carry into 0x400 is the smallest normal: still right
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry moves into the exponent, as it should
  if ((h & 0x7fff) >= 0x7c00) return -1;
  return sign | h;
}

/** The number a float16 bit pattern stands for. */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * float32/float64 data as float16 bits. A value float16 cannot hold (not finite, or |x| > 65504 after rounding)
 * throws, naming `what`, the index and the value: a weight silently turned into Infinity would decode garbage.
 */
export function toFloat16(data: ArrayLike<number>, what = 'tensor'): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const h = float16Bits(data[i]);
    if (h < 0) {
      throw new RangeError(
        `${what}: element ${i} is ${data[i]}, which float16 cannot hold (its finite range is ±${FLOAT16_MAX}); keep this model at full precision`,
      );
    }
    out[i] = h;
  }
  return out;
}

/** float16 bits back to float32. */
export function fromFloat16(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16Value(bits[i]);
  return out;
}
