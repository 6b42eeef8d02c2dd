import { describe, expect, it } from "vitest";
import { toMnist } from "./digit.js";

function canvas(size: number, ink: (x: number, y: number) => boolean) {
  const data = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = ink(x, y) ? 1 : 0;
  return { width: size, height: size, data };
}

describe("toMnist", () => {
  it("returns null for an empty drawing", () => {
    expect(toMnist(canvas(100, () => false))).toBeNull();
  });

  it("scales a stroke in a corner into the 20×20 box, centred by mass, values in [0,1]", () => {
    // a vertical bar in the top-left corner
    const px = toMnist(canvas(280, (x, y) => x >= 10 && x < 40 && y >= 10 && y < 110))!;
    expect(px).toHaveLength(784);
    expect(Math.min(...px)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...px)).toBeLessThanOrEqual(1);
    let mass = 0;
    let cx = 0;
    let cy = 0;
    let rows = 0;
    for (let y = 0; y < 28; y++) {
      let rowInk = false;
      for (let x = 0; x < 28; x++) {
        const v = px[y * 28 + x]!;
        mass += v;
        cx += v * x;
        cy += v * y;
        if (v > 0.5) rowInk = true;
      }
      if (rowInk) rows++;
    }
    expect(cx / mass).toBeGreaterThan(12.5);
    expect(cx / mass).toBeLessThan(14.5);
    expect(cy / mass).toBeGreaterThan(12.5);
    expect(cy / mass).toBeLessThan(14.5);
    expect(rows).toBe(20); // the long side fills the 20-pixel box
  });
});
