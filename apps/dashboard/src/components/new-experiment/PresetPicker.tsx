import type { TPresetInfo } from "@actlab/contracts";
import { Card } from "../ui.js";

/** The choice that stands for "no preset": the service defaults. */
export const SCRATCH = "scratch";

const FROM_SCRATCH = {
  id: SCRATCH,
  title: "From scratch",
  description: "Two variants (sigmoid vs ReLU) with the service defaults.",
};

/** "Start from": the presets as radio cards; choosing one refills the form. */
export function PresetPicker({
  presets,
  selected,
  onChoose,
}: {
  presets: readonly TPresetInfo[];
  selected: string;
  onChoose: (id: string) => void;
}) {
  return (
    <Card title="Start from">
      <div className="preset-grid" role="radiogroup" aria-label="preset">
        {[FROM_SCRATCH, ...presets].map((p) => (
          <label key={p.id} className={`preset ${selected === p.id ? "selected" : ""}`}>
            <input
              type="radio"
              name="preset"
              value={p.id}
              checked={selected === p.id}
              onChange={() => onChoose(p.id)}
            />
            <strong>{p.title ?? p.id}</strong>
            {p.description ? <span className="muted small">{p.description}</span> : null}
          </label>
        ))}
      </div>
      {selected !== SCRATCH && presets.some((p) => p.id === selected) ? (
        <p className="muted small">The preset fills every field below; change anything before starting.</p>
      ) : null}
    </Card>
  );
}
