import type { TActivationInfo } from "@actlab/contracts";
import { useState } from "react";
import { CURVE_COLORS, CurveChart } from "../../charts/CurveChart.js";
import { useResampled } from "../../lib/useResampled.js";
import { Card } from "../ui.js";
import { ParamSliders } from "./ParamSliders.js";

interface FigureCurve {
  label: string;
  activation: string;
  of: "f" | "df";
  color: string;
  dashed?: boolean;
}

/** A solid line (the figure's subject) and a dashed one (its derivative, or a reference). */
const solid = (label: string, activation: string, of: FigureCurve["of"]): FigureCurve => ({
  label,
  activation,
  of,
  color: CURVE_COLORS.f,
});
const dashed = (
  label: string,
  activation: string,
  of: FigureCurve["of"],
  color: string = CURVE_COLORS.df,
): FigureCurve => ({ label, activation, of, color, dashed: true });

/** The chapter's figures 8.1–8.4, redrawn from the catalog; x comes from the first curve. */
const FIGURES: { n: number; curves: [FigureCurve, FigureCurve]; caption: string }[] = [
  {
    n: 1,
    curves: [solid("tanh(x)", "tanh", "f"), dashed("σ(x)", "sigmoid", "f", CURVE_COLORS.reference)],
    caption: "tanh(x), with σ(x) for reference: same S shape, range (−1, 1) instead of (0, 1).",
  },
  {
    n: 2,
    curves: [solid("tanh′(x)", "tanh", "df"), dashed("σ′(x)", "sigmoid", "df")],
    caption:
      "tanh′ peaks at 1, σ′ at only 0.25: through n sigmoid layers the gradient shrinks by up to 0.25ⁿ.",
  },
  {
    n: 3,
    curves: [solid("max(0, x)", "relu", "f"), dashed("f′(x)", "relu", "df")],
    caption: "ReLU: slope exactly 1 for x > 0, so gradients pass unchanged; 0 for x ≤ 0 (units can die).",
  },
  {
    n: 4,
    curves: [solid("max(αx, x)", "leaky_relu", "f"), dashed("f′(x)", "leaky_relu", "df")],
    caption: "LeakyReLU keeps a small slope α for x ≤ 0 (α exaggerated here so it shows).",
  },
];

/** Stands in for leaky_relu while the catalog lacks it, so the hooks below run in the same order. */
const NO_LEAKY: TActivationInfo = {
  name: "leaky_relu",
  title: "",
  formulaLatex: "",
  derivativeLatex: "",
  params: [],
  learnable: false,
  reluLike: true,
  saturating: false,
  samples: { x: [], f: [], df: [] },
};

export function ChapterFigures({ catalog }: { catalog: TActivationInfo[] }) {
  const leaky = catalog.find((a) => a.name === "leaky_relu");
  // Figure 8.4 is drawn with its own α (larger than the default, so the slope shows).
  const [alpha, setAlpha] = useState<Record<string, number>>({ alpha: 0.1 });
  const leakyR = useResampled(leaky ?? NO_LEAKY, alpha);
  const by = (name: string) =>
    name === "leaky_relu" ? leaky && leakyR.info : catalog.find((a) => a.name === name);
  if (!["tanh", "sigmoid", "relu", "leaky_relu"].every(by)) return null;
  return (
    <Card title="The chapter's figures">
      <div className="figures">
        {FIGURES.map(({ n, curves, caption }) => (
          <figure key={n} className="figure">
            <CurveChart
              x={by(curves[0].activation)!.samples.x}
              curves={curves.map((c) => ({
                label: c.label,
                color: c.color,
                dashed: c.dashed,
                y: by(c.activation)!.samples[c.of],
              }))}
              testId={`figure-8-${n}`}
              title={`Figure 8.${n}`}
              height={200}
            />
            <figcaption>
              Figure 8.{n} — {caption}
            </figcaption>
            {n === 4 && leaky?.params.length ? (
              <ParamSliders params={leaky.params} values={alpha} onChange={setAlpha} />
            ) : null}
          </figure>
        ))}
      </div>
    </Card>
  );
}
