import type { TActivationParam } from "@actlab/contracts";
import { Tex } from "./Tex.js";

/** How the catalog's parameter names read in the chapter's notation. */
const PARAM_TEX: Record<string, string> = {
  alpha: "\\alpha",
  alphaInit: "\\alpha_0",
  lower: "l",
  upper: "u",
};

/** A slider (with a reset) per parameter of an activation, within the catalog's range. */
export function ParamSliders({
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
        // An exclusive bound (elu's α > 0) is not offered: the API would refuse it.
        const min = p.minInclusive ? p.min : p.min + step;
        return (
          <label key={p.name} className="slider">
            <span>
              <Tex tex={PARAM_TEX[p.name] ?? `\\text{${p.name}}`} /> = <strong>{+v.toPrecision(3)}</strong>
            </span>
            <input
              type="range"
              min={min}
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
