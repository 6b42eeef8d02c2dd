import { DATASET_NAMES, LIMITS, PRESETS } from "@actlab/contracts";
import { type FormEvent, useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../api/client.js";
import { useCreateExperiment, useDatasets, usePresets } from "../api/hooks.js";
import type { TPresetInfo } from "../api/schemas.js";
import { NumberField, SelectField, TextField } from "../components/fields.js";
import { Card, errorMessage } from "../components/ui.js";
import { VariantsEditor } from "../components/VariantsEditor.js";
import { navigate, useSearchParam } from "../lib/router.js";
import {
  blankSpec,
  FIELD_BOUNDS,
  type FieldErrors,
  type FormSpec,
  setPath,
  specFromPreset,
  validateSpec,
  workload,
} from "../lib/specForm.js";

const SCRATCH = "scratch";

function newIdempotencyKey(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

export function NewExperimentPage() {
  const [presetParam, setPresetParam] = useSearchParam("preset");
  const presetsQ = usePresets();
  const datasetsQ = useDatasets();
  // The API's list is authoritative; the bundled contracts list keeps the form usable if it fails.
  const presets: TPresetInfo[] =
    presetsQ.data ?? PRESETS.map((p) => ({ ...p, spec: p.spec as Record<string, unknown> }));
  const presetId = presetParam ?? SCRATCH;
  const preset = presets.find((p) => p.id === presetId);

  const [spec, setSpec] = useState<FormSpec>(() => {
    const p = PRESETS.find((x) => x.id === presetParam);
    return p ? specFromPreset(p.spec) : blankSpec();
  });
  // A preset only the API knows (newer than this bundle) fills the form once the list arrives,
  // unless the user has started editing.
  const touched = useRef(false);
  const apiPresets = presetsQ.data;
  useEffect(() => {
    if (touched.current || !presetParam || PRESETS.some((p) => p.id === presetParam)) return;
    const p = apiPresets?.find((x) => x.id === presetParam);
    if (p) setSpec(specFromPreset(p.spec));
  }, [apiPresets, presetParam]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const [topError, setTopError] = useState<string | null>(null);
  const idem = useRef(newIdempotencyKey());
  const create = useCreateExperiment();

  const clientErrors = useMemo(() => validateSpec(spec), [spec]);
  // Before the first submit only show what the API said; after it, live client-side checks too
  // (the API's message wins where both have one).
  const shown: FieldErrors = submitted ? { ...clientErrors, ...errors } : errors;
  const err = (path: string) => shown[path];
  const { runs, epochs } = workload(spec);

  const update = (path: string, value: unknown) => {
    idem.current = newIdempotencyKey(); // a changed form is a new request
    touched.current = true;
    setSpec((s) => setPath(s, path, value));
    if (errors[path]) setErrors(({ [path]: _, ...rest }) => rest);
  };

  const choosePreset = (id: string) => {
    setPresetParam(id === SCRATCH ? null : id);
    const p = presets.find((x) => x.id === id);
    setSpec(p ? specFromPreset(p.spec) : blankSpec());
    setErrors({});
    setSubmitted(false);
    idem.current = newIdempotencyKey();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    setTopError(null);
    setErrors({});
    // The API is the authority: the form always submits and shows what it answers next to each
    // field; the same schema's client-side messages only fill in while the user edits.
    try {
      const exp = await create.mutateAsync({ body: spec, idempotencyKey: idem.current });
      navigate(`/experiments/${exp.id}`);
    } catch (ex) {
      if (ex instanceof ApiError && ex.problem?.errors?.length) {
        setErrors(ex.fieldErrors());
        setTopError(ex.message);
      } else {
        setTopError(errorMessage(ex));
      }
    }
  };

  const knownPaths = new Set(
    Object.keys(FIELD_BOUNDS).concat([
      "name",
      "variants",
      "device",
      "dataset.name",
      "dataset.pixelScale",
      "model.initializer.name",
      "training.optimizer.name",
    ]),
  );
  const stray = Object.entries(errors).filter(
    ([p]) => !knownPaths.has(p) && !p.startsWith("variants.") && !p.startsWith("model.initializer"),
  );

  const datasetOptions = datasetsQ.data?.length
    ? datasetsQ.data.map((d) => ({
        value: d.name as (typeof DATASET_NAMES)[number],
        label: `${d.title ?? d.name}${d.available === false ? " (not installed)" : d.samples ? ` — ${d.samples.toLocaleString("en-US")} images` : ""}`,
        disabled: d.available === false && d.name !== spec.dataset.name,
      }))
    : DATASET_NAMES.map((d) => ({ value: d, label: d }));
  const datasetInfo = datasetsQ.data?.find((d) => d.name === spec.dataset.name);

  const initializer = spec.model.initializer;

  return (
    <form className="new-exp" onSubmit={submit} noValidate aria-label="new experiment">
      <div className="page-head">
        <h1>New experiment</h1>
      </div>

      <Card title="Start from">
        <div className="preset-grid" role="radiogroup" aria-label="preset">
          {[
            {
              id: SCRATCH,
              title: "From scratch",
              description: "Two variants (sigmoid vs ReLU) with the service defaults.",
            },
            ...presets,
          ].map((p) => (
            <label key={p.id} className={`preset ${presetId === p.id ? "selected" : ""}`}>
              <input
                type="radio"
                name="preset"
                value={p.id}
                checked={presetId === p.id}
                onChange={() => choosePreset(p.id)}
              />
              <strong>{p.title ?? p.id}</strong>
              {p.description ? <span className="muted small">{p.description}</span> : null}
            </label>
          ))}
        </div>
        {preset ? (
          <p className="muted small">The preset fills every field below; change anything before starting.</p>
        ) : null}
      </Card>

      <Card title="Basics">
        <div className="grid-fields">
          <TextField
            label="Name"
            path="name"
            value={spec.name}
            onChange={(v) => update("name", v)}
            errors={err("name")}
            maxLength={LIMITS.maxNameLength}
            hint={`up to ${LIMITS.maxNameLength} characters`}
          />
          <SelectField
            label="Device"
            path="device"
            value={spec.device}
            options={[
              { value: "cpu", label: "CPU" },
              { value: "gpu", label: "GPU (waits for a GPU worker)" },
              { value: "any", label: "Any free worker" },
            ]}
            onChange={(v) => update("device", v)}
            errors={err("device")}
          />
        </div>
      </Card>

      <Card title="Dataset">
        <div className="grid-fields">
          <SelectField
            label="Dataset"
            path="dataset.name"
            value={spec.dataset.name}
            options={datasetOptions}
            onChange={(v) => update("dataset.name", v)}
            errors={err("dataset.name")}
            hint={datasetInfo?.detail}
          />
          <NumberField
            label="Samples"
            path="dataset.samples"
            value={spec.dataset.samples}
            bounds={FIELD_BOUNDS["dataset.samples"]}
            onChange={(v) => update("dataset.samples", v)}
            errors={err("dataset.samples")}
            extraHint={
              datasetInfo?.maxSamples
                ? `this install has ${datasetInfo.maxSamples.toLocaleString("en-US")}`
                : undefined
            }
          />
          <NumberField
            label="Test fraction"
            path="dataset.testFraction"
            value={spec.dataset.testFraction}
            bounds={FIELD_BOUNDS["dataset.testFraction"]}
            step={0.05}
            onChange={(v) => update("dataset.testFraction", v)}
            errors={err("dataset.testFraction")}
          />
          <SelectField
            label="Pixel scale"
            path="dataset.pixelScale"
            value={spec.dataset.pixelScale}
            options={[
              { value: "unit", label: "unit — pixels in [0, 1]" },
              { value: "raw", label: "raw — pixels 0–255" },
            ]}
            onChange={(v) => update("dataset.pixelScale", v)}
            errors={err("dataset.pixelScale")}
          />
          <NumberField
            label="Split seed"
            path="dataset.seed"
            value={spec.dataset.seed}
            bounds={FIELD_BOUNDS["dataset.seed"]}
            onChange={(v) => update("dataset.seed", v)}
            errors={err("dataset.seed")}
            extraHint="same split for every run"
          />
        </div>
      </Card>

      <Card title="Network">
        <div className="grid-fields">
          <NumberField
            label="Hidden layers"
            path="model.hiddenLayers"
            value={spec.model.hiddenLayers}
            bounds={FIELD_BOUNDS["model.hiddenLayers"]}
            onChange={(v) => update("model.hiddenLayers", v)}
            errors={err("model.hiddenLayers")}
          />
          <NumberField
            label="Units per layer"
            path="model.units"
            value={spec.model.units}
            bounds={FIELD_BOUNDS["model.units"]}
            onChange={(v) => update("model.units", v)}
            errors={err("model.units")}
          />
          <SelectField
            label="Initializer"
            path="model.initializer.name"
            value={initializer.name}
            options={[
              { value: "glorot_uniform", label: "glorot_uniform (Keras default)" },
              { value: "truncated_normal", label: "truncated_normal" },
              { value: "he_normal", label: "he_normal" },
            ]}
            onChange={(v) =>
              update("model.initializer", v === "truncated_normal" ? { name: v, stddev: 0.01 } : { name: v })
            }
            errors={err("model.initializer.name") ?? err("model.initializer")}
          />
          {initializer.name === "truncated_normal" ? (
            <NumberField
              label="Initializer stddev"
              path="model.initializer.stddev"
              value={initializer.stddev}
              bounds={FIELD_BOUNDS["model.initializer.stddev"]}
              onChange={(v) => update("model.initializer.stddev", v)}
              errors={err("model.initializer.stddev")}
            />
          ) : null}
        </div>
      </Card>

      <VariantsEditor
        variants={spec.variants}
        onChange={(variants) => update("variants", variants)}
        onChangeAt={(path, value) => update(`variants.${path}`, value)}
        err={err}
      />

      <Card title="Training">
        <div className="grid-fields">
          <SelectField
            label="Optimizer"
            path="training.optimizer.name"
            value={spec.training.optimizer.name}
            options={[
              { value: "sgd", label: "SGD" },
              { value: "momentum", label: "SGD with momentum" },
              { value: "adam", label: "Adam" },
            ]}
            onChange={(v) => update("training.optimizer.name", v)}
            errors={err("training.optimizer.name")}
          />
          <NumberField
            label="Learning rate"
            path="training.optimizer.learningRate"
            value={spec.training.optimizer.learningRate}
            bounds={FIELD_BOUNDS["training.optimizer.learningRate"]}
            step={0.001}
            onChange={(v) => update("training.optimizer.learningRate", v)}
            errors={err("training.optimizer.learningRate")}
          />
          {spec.training.optimizer.name === "momentum" ? (
            <NumberField
              label="Momentum"
              path="training.optimizer.momentum"
              value={spec.training.optimizer.momentum}
              bounds={FIELD_BOUNDS["training.optimizer.momentum"]}
              step={0.01}
              onChange={(v) => update("training.optimizer.momentum", v)}
              errors={err("training.optimizer.momentum")}
            />
          ) : null}
          <NumberField
            label="Epochs"
            path="training.epochs"
            value={spec.training.epochs}
            bounds={FIELD_BOUNDS["training.epochs"]}
            onChange={(v) => update("training.epochs", v)}
            errors={err("training.epochs")}
          />
          <NumberField
            label="Batch size"
            path="training.batchSize"
            value={spec.training.batchSize}
            bounds={FIELD_BOUNDS["training.batchSize"]}
            onChange={(v) => update("training.batchSize", v)}
            errors={err("training.batchSize")}
          />
          <NumberField
            label="Repeats"
            path="training.repeats"
            value={spec.training.repeats}
            bounds={FIELD_BOUNDS["training.repeats"]}
            onChange={(v) => update("training.repeats", v)}
            errors={err("training.repeats")}
            extraHint="seeds differ per repeat"
          />
          <NumberField
            label="Training seed"
            path="training.seed"
            value={spec.training.seed}
            bounds={FIELD_BOUNDS["training.seed"]}
            onChange={(v) => update("training.seed", v)}
            errors={err("training.seed")}
          />
        </div>
      </Card>

      <div className="submit-bar">
        <div
          className={`workload ${runs > LIMITS.maxRunsPerExperiment ? "over" : ""}`}
          data-testid="workload"
        >
          {spec.variants.length} variants × {spec.training.repeats} repeats = <strong>{runs} runs</strong>{" "}
          (max {LIMITS.maxRunsPerExperiment}), {epochs.toLocaleString("en-US")} epochs in total
        </div>
        {topError ? (
          <div className="form-error" role="alert">
            {topError}
            {stray.length ? (
              <ul>
                {stray.map(([p, m]) => (
                  <li key={p}>
                    <code>{p}</code>: {m.join("; ")}
                  </li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? "Starting…" : "Start experiment"}
        </button>
      </div>
    </form>
  );
}
