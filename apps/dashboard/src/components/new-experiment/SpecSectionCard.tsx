import { type FieldContext, getPath, type SpecFieldDef, type SpecSection } from "../../lib/specFields.js";
import { FIELD_BOUNDS } from "../../lib/specForm.js";
import { NumberField, SelectField, TextField } from "../fields.js";
import { Card } from "../ui.js";

export interface SpecFormBinding extends FieldContext {
  /** Writes one value at a dotted path of the spec. */
  update: (path: string, value: unknown) => void;
  /** The messages to show under a dotted path, if any. */
  err: (path: string) => string[] | undefined;
}

/** One card of the new-experiment form, its fields rendered from the section's list. */
export function SpecSectionCard({ section, form }: { section: SpecSection; form: SpecFormBinding }) {
  return (
    <Card title={section.title}>
      <div className="grid-fields">
        {section.fields
          .filter((f) => !f.when || f.when(form.spec))
          .map((f) => (
            <SpecField key={f.path} field={f} form={form} />
          ))}
      </div>
    </Card>
  );
}

function SpecField({ field: f, form }: { field: SpecFieldDef; form: SpecFormBinding }) {
  const value = getPath(form.spec, f.path);
  const common = { label: f.label, path: f.path, errors: form.err(f.path) };
  switch (f.kind) {
    case "text":
      return (
        <TextField
          {...common}
          value={String(value ?? "")}
          maxLength={f.maxLength}
          hint={f.hint}
          onChange={(v) => form.update(f.path, v)}
        />
      );
    case "number":
      return (
        <NumberField
          {...common}
          value={typeof value === "number" ? value : Number.NaN}
          bounds={FIELD_BOUNDS[f.path]}
          step={f.step}
          extraHint={f.note?.(form)}
          onChange={(v) => form.update(f.path, v)}
        />
      );
    case "select":
      return (
        <SelectField
          {...common}
          errors={common.errors ?? f.alsoErrorsOf?.map(form.err).find(Boolean)}
          value={String(value ?? "")}
          options={f.options(form)}
          hint={f.hint?.(form)}
          onChange={(v) => {
            const [path, next] = f.write ? f.write(v) : [f.path, v];
            form.update(path, next);
          }}
        />
      );
  }
}
