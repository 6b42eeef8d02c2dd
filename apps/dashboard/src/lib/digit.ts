/*
 * Turns a free-hand drawing into an MNIST-like 28×28 input: MNIST digits are scaled to fit a
 * 20×20 box (keeping their aspect) and centred by centre of mass in the 28×28 frame, white ink
 * on black. Values are in [0, 1], row-major — what POST /v1/runs/:id/predict expects.
 */

export interface Gray {
  width: number;
  height: number;
  /** ink in [0,1], row-major */
  data: Float32Array;
}

export function boundingBox(
  img: Gray,
  threshold = 0.05,
): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = img.width;
  let y0 = img.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if ((img.data[y * img.width + x] ?? 0) > threshold) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

/** Area-averaging resample of a sub-rectangle into an out×out… grid (box filter). */
function resample(
  img: Gray,
  box: { x0: number; y0: number; w: number; h: number },
  outW: number,
  outH: number,
): Float32Array {
  const out = new Float32Array(outW * outH);
  const sx = box.w / outW;
  const sy = box.h / outH;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const fx0 = box.x0 + ox * sx;
      const fy0 = box.y0 + oy * sy;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(fy0); y < Math.ceil(fy0 + sy); y++) {
        const wy = Math.min(y + 1, fy0 + sy) - Math.max(y, fy0);
        if (wy <= 0 || y < 0 || y >= img.height) continue;
        for (let x = Math.floor(fx0); x < Math.ceil(fx0 + sx); x++) {
          const wx = Math.min(x + 1, fx0 + sx) - Math.max(x, fx0);
          if (wx <= 0 || x < 0 || x >= img.width) continue;
          sum += (img.data[y * img.width + x] ?? 0) * wx * wy;
          area += wx * wy;
        }
      }
      out[oy * outW + ox] = area ? sum / area : 0;
    }
  }
  return out;
}

export function toMnist(img: Gray): number[] | null {
  const bb = boundingBox(img);
  if (!bb) return null;
  const w = bb.x1 - bb.x0 + 1;
  const h = bb.y1 - bb.y0 + 1;
  const side = Math.max(w, h);
  // Square box around the ink so the aspect ratio survives the scaling to 20×20.
  const square = { x0: bb.x0 - (side - w) / 2, y0: bb.y0 - (side - h) / 2, w: side, h: side };
  const small = resample(img, square, 20, 20);
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x < 20; x++) {
      const v = small[y * 20 + x] ?? 0;
      mass += v;
      cx += v * x;
      cy += v * y;
    }
  }
  const dx = mass ? Math.round(14 - cx / mass - 0.5) : 4;
  const dy = mass ? Math.round(14 - cy / mass - 0.5) : 4;
  const out = new Array<number>(28 * 28).fill(0);
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x < 20; x++) {
      const tx = x + dx;
      const ty = y + dy;
      if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28)
        out[ty * 28 + tx] = Math.min(1, Math.max(0, small[y * 20 + x] ?? 0));
    }
  }
  return out;
}
