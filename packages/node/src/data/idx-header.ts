/**
 * The IDX header, read before any data: magic, type code, dimensions, and the file size they imply. Below both idx.ts
 * (the codec) and read-bytes.ts (which bounds a gzipped file's decompression by that size), so neither imports the
 * other.
 */

export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** Each dtype's IDX type code (the header's third byte) and item size in bytes. */
export const TYPE_CODES: Readonly<Record<IdxDType, { code: number; itemSize: number }>> = {
  uint8: { code: 0x08, itemSize: 1 },
  int8: { code: 0x09, itemSize: 1 },
  int16: { code: 0x0b, itemSize: 2 },
  int32: { code: 0x0c, itemSize: 4 },
  float32: { code: 0x0d, itemSize: 4 },
  float64: { code: 0x0e, itemSize: 8 },
};

/** Type code → dtype. */
export const FROM_CODE: ReadonlyMap<number, IdxDType> = new Map(
  (Object.keys(TYPE_CODES) as IdxDType[]).map((d) => [TYPE_CODES[d].code, d]),
);

/** The number of elements of an array of this shape. */
export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The file size an IDX header implies (header plus data), or undefined when `head` does not begin with a complete
 * IDX header. Lets a gzipped file be decompressed no further than that.
 */
export function idxByteLength(head: Uint8Array): number | undefined {
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0) return undefined;
  const dtype = FROM_CODE.get(head[2]);
  const headerBytes = 4 + 4 * head[3];
  if (dtype === undefined || head.length < headerBytes) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let n = 1;
  for (let i = 0; i < head[3]; i++) n *= view.getUint32(4 + 4 * i, false);
  return headerBytes + n * TYPE_CODES[dtype].itemSize;
}
