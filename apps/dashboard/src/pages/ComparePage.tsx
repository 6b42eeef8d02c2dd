import type { TCompareResponse, TMetricsResponse, TVariant } from "@actlab/contracts";
import { useQueries } from "@tanstack/react-query";
import { useMemo } from "react";
import { metricsQuery } from "../api/hooks.js";
import { useCompare } from "../api/results.js";
import { LearningCurvesCard } from "../components/LearningCurvesCard.js";
import { type Column, MeanStd, Table } from "../components/Table.js";
import { Card, Empty, ErrorState, Loading, StatusBadge, Swatch } from "../components/ui.js";
import { colorsByLabel, groupByVariant, type VariantGroup } from "../lib/aggregate.js";
import { useApiKey } from "../lib/auth.js";
import { pct } from "../lib/format.js";
import { Link, useSearchParam } from "../lib/router.js";

/** Line style of the i-th experiment: colour says the variant, the dash says the experiment. */
const DASHES: (number[] | undefined)[] = [
  undefined,
  [8, 4],
  [2, 3],
  [12, 3, 2, 3],
  [4, 4],
  [1, 5],
  [6, 2],
  [10, 6],
];
const dashText = [
  "solid",
  "dashed",
  "dotted",
  "dash-dot",
  "short dashes",
  "sparse dots",
  "long-short",
  "long dashes",
];

const show = (v: unknown) =>
  v === null || v === undefined
    ? "—"
    : Array.isArray(v)
      ? v.join(", ")
      : typeof v === "object"
        ? JSON.stringify(v)
        : String(v);

/**
 * `/compare?experiments=a,b[,…]`: the spec fields that differ, the variants' summaries side by
 * side (lined up by label), and every experiment's curves overlaid (one colour per variant, one
 * dash per experiment).
 */
export function ComparePage() {
  const [param] = useSearchParam("experiments");
  const ids = useMemo(() => (param ?? "").split(",").filter(Boolean), [param]);
  const q = useCompare(ids);
  if (ids.length < 2) {
    return (
      <Empty title="Pick two or more experiments to compare.">
        Tick them in the <Link to="/">experiments list</Link>.
      </Empty>
    );
  }
  if (q.isPending) return <Loading what="Comparing" />;
  if (q.isError) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  return <Comparison data={q.data} />;
}

function Comparison({ data }: { data: TCompareResponse }) {
  const ids = data.experiments.map((e) => e.id);
  const key = useApiKey();
  const metrics = useQueries({ queries: ids.map((id) => metricsQuery(key, id)) });
  // One colour per variant label across all experiments (the same as on each experiment's page
  // when its variants are the usual ones).
  const variants: TVariant[] = data.rows.map((r) => r.summaries.find((s) => s)!.variant);
  const colors = colorsByLabel(variants);
  const groups = useMemo(() => {
    const out: VariantGroup[] = [];
    data.experiments.forEach((_exp, i) => {
      const m = metrics[i]?.data as TMetricsResponse | undefined;
      if (!m) return;
      for (const g of groupByVariant(m, [])) {
        out.push({
          ...g,
          label: `${g.label} · #${i + 1}`,
          color: colors[g.label] ?? g.color,
          dash: DASHES[i % DASHES.length],
        });
      }
    });
    return out;
  }, [data, metrics, colors]);

  const expColumns: Column<TCompareResponse["experiments"][number]>[] = [
    { head: "#", cell: (_e, i) => `#${i + 1} (${dashText[i % dashText.length]})` },
    { head: "Experiment", cell: (e) => <Link to={`/experiments/${e.id}`}>{e.name}</Link> },
    { head: "Status", cell: (e) => <StatusBadge status={e.status} /> },
    { head: "Finished", className: "num", cell: (e) => `${e.finished} of ${e.runs}` },
  ];
  const diffColumns: Column<TCompareResponse["differences"][number]>[] = [
    { head: "Spec field", cell: (d) => <code>{d.path}</code> },
    ...data.experiments.map((_e, i) => ({
      head: `#${i + 1}`,
      cell: (d: TCompareResponse["differences"][number]) => show(d.values[i]),
    })),
  ];
  const rowColumns: Column<TCompareResponse["rows"][number]>[] = [
    {
      head: "Variant",
      cell: (r) => (
        <>
          <Swatch color={colors[r.label]} />
          {r.label}
          {Object.keys(r.cell).length ? <span className="muted"> {show(r.cell)}</span> : null}
        </>
      ),
    },
    ...data.experiments.map((_e, i) => ({
      head: `#${i + 1} test accuracy`,
      className: "num",
      cell: (r: TCompareResponse["rows"][number]) => {
        const s = r.summaries[i];
        return s ? (
          <MeanStd mean={s.testAccuracy.mean} std={s.testAccuracy.std} format={(v) => pct(v, 2)} />
        ) : (
          "—"
        );
      },
    })),
  ];
  return (
    <div className="compare" data-testid="compare-page">
      <div className="page-head">
        <div>
          <div className="crumbs">
            <Link to="/">Experiments</Link> /
          </div>
          <h1>Compare {data.experiments.length} experiments</h1>
        </div>
      </div>
      <Card title="Experiments">
        <Table
          columns={expColumns}
          rows={data.experiments}
          rowKey={(e) => e.id}
          testId="compare-experiments"
        />
      </Card>
      <Card title="What differs">
        {data.differences.length ? (
          <Table
            columns={diffColumns}
            rows={data.differences}
            rowKey={(d) => d.path}
            testId="compare-differences"
          />
        ) : (
          <p className="muted">Their specs are the same (but for the name).</p>
        )}
      </Card>
      <Card title="Variants side by side">
        <Table
          columns={rowColumns}
          rows={data.rows}
          rowKey={(r) => `${r.label}${show(r.cell)}`}
          testId="compare-rows"
        />
      </Card>
      <LearningCurvesCard
        title="Curves overlaid"
        groups={groups}
        testIdPrefix="compare"
        caption="Colour: the variant; line style: the experiment (#1 solid, #2 dashed, …)."
      />
    </div>
  );
}
