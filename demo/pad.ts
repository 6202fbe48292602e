/**
 * A drawing pad on a canvas of the image's size (shown enlarged by CSS): pointer strokes (mouse, pen, finger) with a
 * soft round brush like an MNIST stroke, into `ink` (h × w values in [0, 1]). With a `mask`, ink goes only where the
 * mask is 1: strokes are clipped to those pixels, and the others are shown shaded. Used by the page's "Draw a digit"
 * and "Complete a digit" panels.
 */

export interface DrawPad {
  /** The drawing, h × w values in [0, 1] (0 wherever the mask is 0). */
  readonly ink: Float32Array;
  /** Whether anything has been drawn since the last clear. */
  readonly drawn: boolean;
  clear(): void;
}

/** The gray levels of a masked-out pixel (a dim blue), so the part the pad does not take is visibly marked. */
const SHADE = [46, 52, 86];

export function drawPad(canvas: HTMLCanvasElement, h: number, w: number, opts: { mask?: Float32Array; onStroke: () => void }): DrawPad {
  const { mask, onStroke } = opts;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  const ink = new Float32Array(h * w);
  const paint = () => {
    const img = ctx.createImageData(w, h);
    ink.forEach((v, i) => {
      const b = Math.round(v * 255);
      img.data.set(mask && mask[i] === 0 ? [...SHADE, 255] : [b, b, b, 255], i * 4);
    });
    ctx.putImageData(img, 0, 0);
  };
  paint();
  /**
   * A soft round brush like an MNIST stroke: full ink within 0.8 pixels of the pointer's path, fading to none at
   * 2 pixels (a 2–4 pixel wide anti-aliased line); strokes only add ink (max), and only where the mask is 1.
   */
  const CORE = 0.8;
  const EDGE = 2;
  const stamp = (x0: number, y0: number, x1: number, y1: number) => {
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    const lo = (a: number, b: number) => Math.max(0, Math.floor(Math.min(a, b) - EDGE));
    for (let py = lo(y0, y1); py <= Math.min(h - 1, Math.ceil(Math.max(y0, y1) + EDGE)); py++) {
      for (let px = lo(x0, x1); px <= Math.min(w - 1, Math.ceil(Math.max(x0, x1) + EDGE)); px++) {
        if (mask && mask[py * w + px] === 0) continue;
        const cx = px + 0.5;
        const cy = py + 0.5;
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((cx - x0) * dx + (cy - y0) * dy) / len2));
        const d = Math.hypot(cx - (x0 + t * dx), cy - (y0 + t * dy));
        const v = Math.max(0, Math.min(1, (EDGE - d) / (EDGE - CORE)));
        if (v > ink[py * w + px]) ink[py * w + px] = v;
      }
    }
  };
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [
      ((e.clientX - r.left - canvas.clientLeft) / canvas.clientWidth) * w,
      ((e.clientY - r.top - canvas.clientTop) / canvas.clientHeight) * h,
    ];
  };
  let last: [number, number] | undefined;
  let drawn = false;
  canvas.onpointerdown = (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    stamp(...last, ...last);
    drawn = true;
    paint();
  };
  canvas.onpointermove = (e) => {
    if (!last) return;
    const events = e.getCoalescedEvents?.().length ? e.getCoalescedEvents() : [e];
    for (const ev of events) {
      const p = at(ev);
      stamp(...last, ...p);
      last = p;
    }
    paint();
  };
  const end = () => {
    if (!last) return;
    last = undefined;
    onStroke();
  };
  canvas.onpointerup = end;
  canvas.onpointercancel = end;
  return {
    ink,
    get drawn() {
      return drawn;
    },
    clear() {
      ink.fill(0);
      drawn = false;
      paint();
    },
  };
}
