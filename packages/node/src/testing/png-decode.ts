/**
 * Test support: an independent PNG reader for the subset the report writer produces (8-bit gray, RGB, RGBA, no
 * interlace). It checks the structure and every chunk's CRC with zlib's own crc32 (not the encoder's table), inflates
 * and unfilters, so the encoder's tests and the charts' tests read pixels through code the encoder does not share.
 */
import { inflateSync, crc32 as zlibCrc32 } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
  /** Chunk types in file order. */
  chunks: string[];
  /** Each scanline's filter type. */
  filters: number[];
  pixels: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** Decodes a PNG; throws on a bad signature, chunk CRC, length or filter. */
export function decodePng(png: Uint8Array): DecodedPng {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (!SIGNATURE.every((b, i) => buf[i] === b)) throw new Error(`bad PNG signature ${Array.from(buf.subarray(0, 8))}`);
  let pos = 8;
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    const crc = buf.readUInt32BE(pos + 8 + len);
    const want = zlibCrc32(buf.subarray(pos + 4, pos + 8 + len));
    if (crc !== want) throw new Error(`CRC of ${type}: ${crc}, expected ${want}`);
    chunks.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  if (pos !== buf.length) throw new Error(`chunks end at ${pos}, the file at ${buf.length}`);
  if (ihdr === undefined) throw new Error('no IHDR');
  if (ihdr.length !== 13) throw new Error(`IHDR is ${ihdr.length} bytes, expected 13`);
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const colorType = ihdr[9];
  if (ihdr[10] !== 0) throw new Error(`compression method ${ihdr[10]}`);
  if (ihdr[11] !== 0) throw new Error(`filter method ${ihdr[11]}`);
  const bpp = { 0: 1, 2: 3, 6: 4 }[colorType] ?? 0;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  if (raw.length !== height * (stride + 1)) throw new Error(`IDAT inflates to ${raw.length} bytes, expected ${height * (stride + 1)}`);
  const pixels = new Uint8Array(height * stride);
  const filters: number[] = [];
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    filters.push(f);
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= bpp ? pixels[y * stride + i - bpp] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i] : 0;
      const c = i >= bpp && y > 0 ? pixels[(y - 1) * stride + i - bpp] : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = Math.floor((a + b) / 2);
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (f !== 0) throw new Error(`bad filter ${f}`);
      pixels[y * stride + i] = (x + pred) & 0xff;
    }
  }
  return { width, height, bitDepth: ihdr[8], colorType, interlace: ihdr[12], chunks, filters, pixels };
}
