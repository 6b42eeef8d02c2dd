import katex from "katex";
import "katex/dist/katex.min.css";
import { useEffect, useMemo, useState } from "react";
import type uPlot from "uplot";
import { useActivations } from "../api/hooks.js";
import type { TActivationInfo, TActivationParam } from "../api/schemas.js";
import { axis, type LegendItem, UPlot } from "../charts/UPlot.js";
import { Card, Empty, ErrorState, Loading } from "../components/ui.js";
import { PALETTE } from "../lib/aggregate.js";

function Tex({ tex, block }: { tex: string | undefined; block?: boolean }) {
  const html = useMemo(() => {
    if (!tex) return null;
    try {
      return katex.renderToString(tex, { displayMode: Boolean(block), throwOnError: false, strict: false });
    } catch {
      return null;
    }
  }, [tex, block]);
  if (!tex) return null;
  // biome-ignore lint/security/noDangerouslySetInnerHtml: KaTeX output of the API's formula, rendered with trust off
  return html ? <span className="tex" dangerouslySetInnerHTML={{ __html: html }} /> : <code>{tex}</code>;
}

const F_COLOR = PALETTE[2]!;
const DF_COLOR = PALETTE[0]!;

interface Curve {
  label: string;
  color: string;
  y: (number | null)[];
  dashed?: boolean;
}

function CurveChart({
  x,
  curves,
  testId,
  title,
  height = 220,
}: {
  x: (number | null)[];
  curves: Curve[];
  testId: string;
  title: string;
  height?: number;
}) {
  const xs = x.map((v) => v ?? Number.NaN);
  const data = useMemo(() => [xs, ...curves.map((c) => c.y)] as uPlot.AlignedData, [xs, curves]);
  const points = curves.reduce((n, c) => n + c.y.filter((v) => v !== null && Number.isFinite(v)).length, 0);
  const key = curves.map((c) => c.label + c.color + (c.dashed ? "-" : "")).join("|");
  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuild when the set of curves changes
  const options = useMemo(
    (): Omit<uPlot.Options, "width" | "height"> => ({
      series: [
        { label: "x" },
        ...curves.map((c) => ({
          label: c.label,
          stroke: c.color,
          width: 2,
          dash: c.dashed ? [6, 4] : undefined,
          points: { show: false },
        })),
      ],
      legend: { show: false },
      scales: { x: { time: false } },
      axes: [axis({ size: 32 }), axis({ size: 44 })],
    }),
    [key],
  );
  const legend: LegendItem[] = curves.map((c) => ({
    label: c.label,
    color: c.color,
    dashed: c.dashed ?? false,
  }));
  return (
    <UPlot
      options={options}
      data={data}
      points={points}
      testId={testId}
      ariaLabel={title}
      legend={legend}
      height={height}
    />
  );
}

function paramQuery(name: string, values: Record<string, number>, params: TActivationParam[]): string {
  const changed = params.some((p) => values[p.name] !== undefined && values[p.name] !== p.default);
  if (!changed) return "";
  const q = new URLSearchParams({ activation: name });
  for (const p of params) q.set(p.name, String(values[p.name] ?? p.default));
  return q.toString();
}

/** Debounced value, so dragging a slider asks the API once it settles rather than per pixel. */
function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** One activation resampled with the user's parameters (the API computes f and f′). */
function useResampled(base: TActivationInfo, values: Record<string, number>) {
  const query = useDebounced(paramQuery(base.name, values, base.params), 200);
  const q = useActivations(query);
  const hit = query ? q.data?.find((a) => a.name === base.name) : undefined;
  return { info: hit ?? base, loading: Boolean(query) && q.isFetching, error: query ? q.error : null };
}

function ParamSliders({
  params,
  values,
  onChange,
}: {
  params: TActivationParam[];
  values: Record<string, number>;
  onChange: (v: Record<string, number>) => void;
}) {
  return (
    <div className="sliders">
      {params.map((p) => {
        const v = values[p.name] ?? p.default;
        const step = (p.max - p.min) / 100;
        return (
          <label key={p.name} className="slider">
            <span>
              <Tex tex={PARAM_TEX[p.name] ?? `\\text{${p.name}}`} /> = <strong>{+v.toPrecision(3)}</strong>
            </span>
            <input
              type="range"
              min={p.min}
              max={p.max}
              step={step}
              value={v}
              aria-label={`${p.name} parameter`}
              onChange={(e) => onChange({ ...values, [p.name]: Number(e.target.value) })}
            />
            <button
              type="button"
              className="btn btn-ghost btn-small"
              onClick={() => onChange({ ...values, [p.name]: p.default })}
              disabled={v === p.default}
            >
              reset
            </button>
          </label>
        );
      })}
    </div>
  );
}

function ActivationCard({ base }: { base: TActivationInfo }) {
  const [values, setValues] = useState<Record<string, number>>({});
  const { info, loading, error } = useResampled(base, values);
  const curves: Curve[] = useMemo(
    () => [
      { label: "f(x)", color: F_COLOR, y: info.f },
      { label: "f′(x)", color: DF_COLOR, y: info.df, dashed: true },
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
        x={info.x}
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

/** The catalog's formulas are whole equations (`\\tanh(x) = …`); a bare right-hand side gets `f(x) =`. */
function withLhs(tex: string | undefined, lhs: string): string | undefined {
  if (!tex) return undefined;
  return tex.includes("=") ? tex : `${lhs} = ${tex}`;
}

/** How the catalog's parameter names read in the chapter's notation. */
const PARAM_TEX: Record<string, string> = {
  alpha: "\\alpha",
  alphaInit: "\\alpha_0",
  lower: "l",
  upper: "u",
};

function ChapterFigures({ catalog }: { catalog: TActivationInfo[] }) {
  const by = (n: string) => catalog.find((a) => a.name === n);
  const tanh = by("tanh");
  const sigmoid = by("sigmoid");
  const relu = by("relu");
  const leaky = by("leaky_relu");
  const [alpha, setAlpha] = useState<Record<string, number>>({ alpha: 0.1 });
  const leakyR = useResampled(
    leaky ?? ({ name: "leaky_relu", params: [], x: [], f: [], df: [] } as TActivationInfo),
    alpha,
  );
  if (!tanh || !sigmoid || !relu || !leaky) return null;
  return (
    <Card title="The chapter's figures">
      <div className="figures">
        <figure className="figure">
          <CurveChart
            x={tanh.x}
            curves={[
              { label: "tanh(x)", color: F_COLOR, y: tanh.f },
              { label: "σ(x)", color: PALETTE[7]!, y: sigmoid.f, dashed: true },
            ]}
            testId="figure-8-1"
            title="Figure 8.1"
            height={200}
          />
          <figcaption>
            Figure 8.1 — tanh(x), with σ(x) for reference: same S shape, range (−1, 1) instead of (0, 1).
          </figcaption>
        </figure>
        <figure className="figure">
          <CurveChart
            x={tanh.x}
            curves={[
              { label: "tanh′(x)", color: F_COLOR, y: tanh.df },
              { label: "σ′(x)", color: DF_COLOR, y: sigmoid.df, dashed: true },
            ]}
            testId="figure-8-2"
            title="Figure 8.2"
            height={200}
          />
          <figcaption>
            Figure 8.2 — tanh′ peaks at 1, σ′ at only 0.25: through n sigmoid layers the gradient shrinks by
            up to 0.25ⁿ.
          </figcaption>
        </figure>
        <figure className="figure">
          <CurveChart
            x={relu.x}
            curves={[
              { label: "max(0, x)", color: F_COLOR, y: relu.f },
              { label: "f′(x)", color: DF_COLOR, y: relu.df, dashed: true },
            ]}
            testId="figure-8-3"
            title="Figure 8.3"
            height={200}
          />
          <figcaption>
            Figure 8.3 — ReLU: slope exactly 1 for x &gt; 0, so gradients pass unchanged; 0 for x ≤ 0 (units
            can die).
          </figcaption>
        </figure>
        <figure className="figure">
          <CurveChart
            x={leakyR.info.x}
            curves={[
              { label: "max(αx, x)", color: F_COLOR, y: leakyR.info.f },
              { label: "f′(x)", color: DF_COLOR, y: leakyR.info.df, dashed: true },
            ]}
            testId="figure-8-4"
            title="Figure 8.4"
            height={200}
          />
          <figcaption>
            Figure 8.4 — LeakyReLU keeps a small slope α for x ≤ 0 (α exaggerated here so it shows).
          </figcaption>
          {leaky.params.length ? (
            <ParamSliders params={leaky.params} values={alpha} onChange={setAlpha} />
          ) : null}
        </figure>
      </div>
    </Card>
  );
}

export function ActivationsPage() {
  const q = useActivations();
  return (
    <div className="activations">
      <div className="page-head">
        <h1>Activations</h1>
      </div>
      <p className="muted">
        Every hidden-layer activation actlab can train, with its derivative — the factor each layer multiplies
        into the gradient on its way back. Where f′ is far below 1, deep stacks lose their gradient.
      </p>
      {q.isPending ? (
        <Loading what="Loading the activation catalog" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.length === 0 ? (
        <Empty title="The catalog is empty." />
      ) : (
        <>
          <ChapterFigures catalog={q.data} />
          <div className="gallery">
            {q.data.map((a) => (
              <ActivationCard key={a.name} base={a} />
            ))}
          </div>
        </>
      )}
    </div>
  );
}
