import { GraphError } from '../errors.js';

/**
 * A dimension is a number (static) or a name (symbolic, e.g. 'batch'). Two symbolic dims with the same name are
 * equal; that is all the builder needs to undo broadcasting statically.
 */
export type Dim = number | string;
export type Shape = readonly Dim[];

/** Shapes, dtypes or attributes that do not fit an op's schema; a kind of GraphError. */
export class ShapeError extends GraphError {
  override name = 'ShapeError';
}

export function formatShape(s: Shape): string {
  return `[${s.join(', ')}]`;
}

export function isStatic(s: Shape): s is readonly number[] {
  return s.every((d) => typeof d === 'number');
}

export function sizeOf(s: Shape): number | undefined {
  let n = 1;
  for (const d of s) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Numpy-style multidirectional broadcasting; a symbolic dim against 1 stays symbolic. */
export function broadcastShapes(...shapes: Shape[]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = i - (rank - s.length);
      if (k < 0) continue;
      const e = s[k];
      if (e === 1 || e === d) continue;
      if (d === 1) {
        d = e;
        continue;
      }
      throw new ShapeError(`cannot broadcast ${shapes.map(formatShape).join(' with ')}: dim ${i} is ${d} vs ${e}`);
    }
    out.push(d);
  }
  return out;
}

/** Normalizes a possibly negative axis against a rank, with a clear error. */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeError(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Product of dims where all are static, else a fresh symbolic name built from the parts. */
export function dimProduct(dims: Shape): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return n;
  if (n === 1 && syms.length === 1) return syms[0];
  return [n === 1 ? '' : String(n), ...syms].filter(Boolean).join('*');
}

let symbolCounter = 0;
/** A fresh symbolic dim for sizes a rule cannot know statically (data-dependent). */
export function freshDim(hint = 'd'): string {
  symbolCounter += 1;
  return `${hint}_${symbolCounter}`;
}
