import { PRESETS, type TPresetInfo } from "@actlab/contracts";
import { type FormEvent, useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../api/client.js";
import { useCreateExperiment, useDatasets, useExperiment, usePresets } from "../api/hooks.js";
import { PresetPicker, SCRATCH } from "../components/new-experiment/PresetPicker.js";
import { type SpecFormBinding, SpecSectionCard } from "../components/new-experiment/SpecSectionCard.js";
import { SubmitBar } from "../components/new-experiment/SubmitBar.js";
import { VariantsEditor } from "../components/new-experiment/VariantsEditor.js";
import { errorMessage } from "../components/ui.js";
import { navigate, useSearchParam } from "../lib/router.js";
import { BASICS, DATASET, NETWORK, shownByAField, TRAINING } from "../lib/specFields.js";
import {
  blankSpec,
  type FieldErrors,
  type FormSpec,
  setPath,
  specFromPreset,
  validateSpec,
} from "../lib/specForm.js";

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
  // Clone (?clone=<experiment id>, the experiment page's button): the form filled with its spec.
  const [cloneParam] = useSearchParam("clone");
  const cloneQ = useExperiment(cloneParam ?? "", { enabled: !!cloneParam });
  const cloned = cloneQ.data;
  useEffect(() => {
    if (touched.current || !cloned) return;
    setSpec(specFromPreset({ ...cloned.spec, name: `${cloned.spec.name} (copy)` }));
  }, [cloned]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const [topError, setTopError] = useState<string | null>(null);
  const idem = useRef(newIdempotencyKey());
  const create = useCreateExperiment();

  const clientErrors = useMemo(() => validateSpec(spec), [spec]);
  // Before the first submit only show what the API said; after it, live client-side checks too
  // (the API's message wins where both have one).
  const shown: FieldErrors = submitted ? { ...clientErrors, ...errors } : errors;

  const update = (path: string, value: unknown) => {
    idem.current = newIdempotencyKey(); // a changed form is a new request
    touched.current = true;
    setSpec((s) => setPath(s, path, value));
    if (errors[path]) setErrors(({ [path]: _, ...rest }) => rest);
  };
  const form: SpecFormBinding = { spec, datasets: datasetsQ.data, update, err: (path) => shown[path] };

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

  return (
    <form className="new-exp" onSubmit={submit} noValidate aria-label="new experiment">
      <div className="page-head">
        <h1>New experiment</h1>
      </div>
      {cloned ? (
        <p className="muted" data-testid="cloned-from">
          Filled with the spec of “{cloned.name}”; change what you like and submit.
        </p>
      ) : null}
      <PresetPicker presets={presets} selected={presetParam ?? SCRATCH} onChoose={choosePreset} />
      <SpecSectionCard section={BASICS} form={form} />
      <SpecSectionCard section={DATASET} form={form} />
      <SpecSectionCard section={NETWORK} form={form} />
      <VariantsEditor
        variants={spec.variants}
        onChange={(variants) => update("variants", variants)}
        onChangeAt={(path, value) => update(`variants.${path}`, value)}
        err={form.err}
      />
      <SpecSectionCard section={TRAINING} form={form} />
      <SubmitBar
        spec={spec}
        error={topError}
        strayErrors={Object.entries(errors).filter(([p]) => !shownByAField(p))}
        pending={create.isPending}
      />
    </form>
  );
}
