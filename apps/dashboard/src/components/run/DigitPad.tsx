import { type PointerEvent, useEffect, useRef, useState } from "react";
import { toMnist } from "../../lib/digit.js";

const SIZE = 280;

/** A canvas to draw a digit on; reports the 28×28 MNIST-style input (or null when cleared). */
export function DigitPad({ onChange }: { onChange: (pixels: number[] | null) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const preview = useRef<HTMLCanvasElement>(null);
  const last = useRef<{ x: number; y: number } | null>(null);
  const [hasInk, setHasInk] = useState(false);

  const ctx = () => canvas.current?.getContext("2d", { willReadFrequently: true }) ?? null;

  const clear = () => {
    const c = ctx();
    if (!c) return;
    c.fillStyle = "#000";
    c.fillRect(0, 0, SIZE, SIZE);
    preview.current?.getContext("2d")?.clearRect(0, 0, 28, 28);
    setHasInk(false);
    onChange(null);
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: paint the black background once
  useEffect(clear, []);

  const pos = (e: PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * SIZE, y: ((e.clientY - r.top) / r.height) * SIZE };
  };

  const stroke = (to: { x: number; y: number }) => {
    const c = ctx();
    if (!c) return;
    const from = last.current ?? to;
    c.strokeStyle = "#fff";
    c.lineWidth = 20;
    c.lineCap = "round";
    c.lineJoin = "round";
    c.beginPath();
    c.moveTo(from.x, from.y);
    c.lineTo(to.x, to.y);
    c.stroke();
    last.current = to;
  };

  const finish = () => {
    if (!last.current) return;
    last.current = null;
    const c = ctx();
    if (!c) return;
    const rgba = c.getImageData(0, 0, SIZE, SIZE).data;
    const data = new Float32Array(SIZE * SIZE);
    for (let i = 0; i < data.length; i++) data[i] = (rgba[i * 4] ?? 0) / 255;
    const pixels = toMnist({ width: SIZE, height: SIZE, data });
    setHasInk(pixels !== null);
    drawPreview(pixels);
    onChange(pixels);
  };

  const drawPreview = (pixels: number[] | null) => {
    const p = preview.current?.getContext("2d");
    if (!p) return;
    const img = p.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = Math.round((pixels?.[i] ?? 0) * 255);
      img.data.set([v, v, v, 255], i * 4);
    }
    p.putImageData(img, 0, 0);
  };

  return (
    <div className="digitpad">
      <canvas
        ref={canvas}
        width={SIZE}
        height={SIZE}
        className="digit-canvas"
        data-testid="digit-canvas"
        aria-label="Draw a digit here"
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          last.current = null;
          stroke(pos(e));
        }}
        onPointerMove={(e) => {
          if (e.buttons & 1 || e.pointerType === "touch") if (last.current) stroke(pos(e));
        }}
        onPointerUp={finish}
        onPointerCancel={finish}
      />
      <div className="digit-side">
        <canvas
          ref={preview}
          width={28}
          height={28}
          className="digit-preview"
          aria-label="28 × 28 input sent to the model"
        />
        <span className="muted small">28 × 28 input</span>
        <button type="button" className="btn btn-small" onClick={clear} disabled={!hasInk}>
          Clear
        </button>
      </div>
    </div>
  );
}
