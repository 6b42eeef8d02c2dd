import type { TPresetInfo } from "@actlab/contracts";
import { useEstimate } from "../../api/estimate.js";
import { count } from "../../lib/progress.js";
import { Card } from "../ui.js";
import { EstimateLine } from "./EstimateLine.js";

/** The choice that stands for "no preset": the service defaults. */
export const SCRATCH = "scratch";

/** A preset's two versions: `full` is its spec as written, `quick` its short version. */
export type PresetVersion = "quick" | "full";

const FROM_SCRATCH = {
  id: SCRATCH,
  title: "From scratch",
  description: "Two variants (sigmoid vs ReLU) with the service defaults.",
};

/** The radio value of a preset's version (the full one keeps the bare id). */
export const choiceValue = (id: string, version: PresetVersion) => (version === "quick" ? `${id}:quick` : id);

/** One version of a preset as a radio: what it trains and, from the API, how long that would take. */
function VersionOption({
  preset,
  version,
  checked,
  onChoose,
}: {
  preset: TPresetInfo;
  version: PresetVersion;
  checked: boolean;
  onChoose: () => void;
}) {
  const training = (preset.spec.training ?? {}) as { epochs?: number; repeats?: number };
  const { epochs = 0, repeats = 0 } = version === "quick" && preset.quick ? preset.quick : training;
  const estimate = useEstimate(
    version === "quick" ? { preset: preset.id, training: preset.quick } : { preset: preset.id },
  );
  const value = choiceValue(preset.id, version);
  return (
    <label className="preset-version" data-testid={`preset-${value}`}>
      <input type="radio" name="preset" value={value} checked={checked} onChange={onChoose} />
      <span>
        <strong>{version}</strong>: {count(epochs, "epoch")}, {count(repeats, "repeat")}
      </span>{" "}
      <EstimateLine estimate={estimate.data} pending={estimate.isPending} testId={`estimate-${value}`} />
    </label>
  );
}

/**
 * "Start from": the presets as cards, each with its quick and full version (and an estimate of
 * each) as radios; choosing one refills the form.
 */
export function PresetPicker({
  presets,
  selected,
  version,
  onChoose,
}: {
  presets: readonly TPresetInfo[];
  selected: string;
  version: PresetVersion;
  onChoose: (id: string, version: PresetVersion) => void;
}) {
  return (
    <Card title="Start from">
      <div className="preset-grid" role="radiogroup" aria-label="preset">
        <label className={`preset ${selected === SCRATCH ? "selected" : ""}`}>
          <input
            type="radio"
            name="preset"
            value={SCRATCH}
            checked={selected === SCRATCH}
            onChange={() => onChoose(SCRATCH, "full")}
          />
          <strong>{FROM_SCRATCH.title}</strong>
          <span className="muted small">{FROM_SCRATCH.description}</span>
        </label>
        {presets.map((p) => (
          <div key={p.id} className={`preset preset-card ${selected === p.id ? "selected" : ""}`}>
            <strong>{p.title ?? p.id}</strong>
            {p.description ? <span className="muted small">{p.description}</span> : null}
            {(p.quick ? (["quick", "full"] as const) : (["full"] as const)).map((v) => (
              <VersionOption
                key={v}
                preset={p}
                version={v}
                checked={selected === p.id && (version === v || !p.quick)}
                onChoose={() => onChoose(p.id, v)}
              />
            ))}
          </div>
        ))}
      </div>
      {selected !== SCRATCH && presets.some((p) => p.id === selected) ? (
        <p className="muted small">The preset fills every field below; change anything before starting.</p>
      ) : null}
    </Card>
  );
}
