import { LIMITS, type TActivationName, type TVariant, variantLabel } from "@actlab/contracts";
import { ACTIVATIONS, defaultVariant, FIELD_BOUNDS, VARIANT_PARAMS } from "../../lib/specForm.js";
import { NumberField, SelectField } from "../fields.js";
import { Card } from "../ui.js";

interface Props {
  variants: TVariant[];
  /** Replaces the whole list (add, remove). */
  onChange: (variants: TVariant[]) => void;
  /** Sets one value below `variants.` by dotted path (`2`, `2.alpha`). */
  onChangeAt: (path: string, value: unknown) => void;
  /** Messages for a dotted path such as `variants.2.alpha`, as the API reports them. */
  err: (path: string) => string[] | undefined;
}

/** The activation variants of an experiment: one row per variant with its own parameters. */
export function VariantsEditor({ variants, onChange, onChangeAt, err }: Props) {
  return (
    <Card
      title={`Activation variants (${variants.length}/${LIMITS.maxVariants})`}
      actions={
        <select
          aria-label="Add a variant"
          value=""
          disabled={variants.length >= LIMITS.maxVariants}
          onChange={(e) =>
            e.target.value && onChange([...variants, defaultVariant(e.target.value as TActivationName)])
          }
        >
          <option value="">+ add variant…</option>
          {ACTIVATIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      }
    >
      {err("variants") ? (
        <p className="field-error" role="alert" data-error-for="variants">
          {err("variants")!.join("; ")}
        </p>
      ) : null}
      <ol className="variant-list">
        {variants.map((v, i) => {
          const params = VARIANT_PARAMS[v.activation] ?? [];
          const rowErr = err(`variants.${i}`) ?? err(`variants.${i}.activation`);
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: variants are positional; the API reports errors by index
            <li key={i} className="variant-row" data-variant-index={i}>
              <SelectField
                label={`Variant ${i + 1}`}
                path={`variants.${i}.activation`}
                value={v.activation}
                options={ACTIVATIONS}
                onChange={(a) => onChangeAt(String(i), defaultVariant(a))}
                errors={rowErr}
                hint={params.length ? variantLabel(v) : undefined}
              />
              {params.map((p) => (
                <NumberField
                  key={p}
                  label={p}
                  path={`variants.${i}.${p}`}
                  value={(v as unknown as Record<string, number>)[p] ?? Number.NaN}
                  bounds={FIELD_BOUNDS[`${v.activation}.${p}`]}
                  step={0.001}
                  onChange={(val) => onChangeAt(`${i}.${p}`, val)}
                  errors={err(`variants.${i}.${p}`)}
                />
              ))}
              <button
                type="button"
                className="btn btn-ghost btn-small remove"
                onClick={() => onChange(variants.filter((_, j) => j !== i))}
                aria-label={`Remove variant ${i + 1}`}
                disabled={variants.length <= 1}
              >
                Remove
              </button>
            </li>
          );
        })}
      </ol>
    </Card>
  );
}
