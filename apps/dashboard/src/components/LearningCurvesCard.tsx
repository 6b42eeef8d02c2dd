import { type ReactNode, useState } from "react";
import { MeanSpreadChart } from "../charts/MeanSpreadChart.js";
import type { VariantGroup } from "../lib/aggregate.js";
import { Card, Segmented } from "./ui.js";

/** The splits the curves can show: [value, label]. */
const SPLITS = [
  ["test", "test"],
  ["train", "train"],
] as const;

/**
 * Accuracy and loss per epoch side by side, with the controls they share: the test/train split
 * and the smoothing slider (an exponential moving average; the raw line stays faint). The
 * experiment page and the compare page both show their curves in one.
 */
export function LearningCurvesCard({
  title,
  groups,
  testIdPrefix,
  caption,
}: {
  title: string;
  groups: VariantGroup[];
  /** `${prefix}-accuracy` and `${prefix}-loss` name the two charts. */
  testIdPrefix: string;
  caption: ReactNode;
}) {
  const [split, setSplit] = useState<"test" | "train">("test");
  const [smoothing, setSmoothing] = useState(0);
  return (
    <Card
      title={title}
      actions={
        <>
          <label className="smoothing">
            smoothing <output>{smoothing.toFixed(2)}</output>
            <input
              type="range"
              className="smoothing-range"
              min={0}
              max={0.95}
              step={0.05}
              value={smoothing}
              data-testid="smoothing"
              aria-label="smoothing (exponential moving average; the raw line stays faint)"
              onChange={(e) => setSmoothing(Number(e.target.value))}
            />
          </label>
          <Segmented label="data split" options={SPLITS} value={split} onChange={setSplit} />
        </>
      }
    >
      <p className="muted small">
        {caption} Hover for values; click a legend key to hide it, double-click to show it alone; drag to
        zoom.
      </p>
      <div className="chart-grid">
        <MeanSpreadChart
          groups={groups}
          field={split === "test" ? "testAccuracy" : "trainAccuracy"}
          title={`${split} accuracy`}
          testId={`${testIdPrefix}-accuracy`}
          percent
          smoothing={smoothing}
        />
        <MeanSpreadChart
          groups={groups}
          field={split === "test" ? "testLoss" : "trainLoss"}
          title={`${split} loss`}
          testId={`${testIdPrefix}-loss`}
          smoothing={smoothing}
          log
        />
      </div>
    </Card>
  );
}
