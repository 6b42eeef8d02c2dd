import type { TActivationInfo } from "@actlab/contracts";
import { useMemo, useState } from "react";
import { CURVE_COLORS, type Curve, CurveChart } from "../../charts/CurveChart.js";
import { useResampled } from "../../lib/useResampled.js";
import { Card } from "../ui.js";
import { ParamSliders } from "./ParamSliders.js";
import { Tex } from "./Tex.js";

/** The catalog's formulas are whole equations (`\\tanh(x) = …`); a bare right-hand side gets `f(x) =`. */
function withLhs(tex: string | undefined, lhs: string): string | undefined {
  if (!tex) return undefined;
  return tex.includes("=") ? tex : `${lhs} = ${tex}`;
}

/** One activation of the gallery: its formulas, f and f′, and sliders for its parameters. */
export function ActivationCard({ base }: { base: TActivationInfo }) {
  const [values, setValues] = useState<Record<string, number>>({});
  const { info, loading, error } = useResampled(base, values);
  const curves: Curve[] = useMemo(
    () => [
      { label: "f(x)", color: CURVE_COLORS.f, y: info.samples.f },
      { label: "f′(x)", color: CURVE_COLORS.df, y: info.samples.df, dashed: true },
    ],
    [info],
  );
  return (
    <Card
      className="activation-card"
      title={
        <span>
          {info.title ?? info.name} <code className="muted small">{info.name}</code>
        </span>
      }
    >
      <div className="formulas">
        <div>
          <Tex tex={withLhs(info.formulaLatex, "f(x)")} block />
        </div>
        <div>
          <Tex tex={withLhs(info.derivativeLatex, "f'(x)")} block />
        </div>
      </div>
      <CurveChart
        x={info.samples.x}
        curves={curves}
        testId={`activation-${info.name}`}
        title={`${info.name} and its derivative`}
      />
      {base.params.length ? <ParamSliders params={base.params} values={values} onChange={setValues} /> : null}
      {loading ? <span className="muted small">resampling…</span> : null}
      {error ? <span className="field-error">{String((error as Error).message)}</span> : null}
    </Card>
  );
}
