import { PRESETS, quickSpec, type TPresetInfo } from "@actlab/contracts";
import { type FormEvent, useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../api/client.js";
import { useEstimate } from "../api/estimate.js";
import { useCreateExperiment, useDatasets, useExperiment, usePresets } from "../api/hooks.js";
import { PresetPicker, type PresetVersion, SCRATCH } from "../components/new-experiment/PresetPicker.js";
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

/** The form's spec for a preset's version (a quick version is its spec with fewer epochs and repeats). */
function presetSpec(p: Pick<TPresetInfo, "spec" | "quick">, version: PresetVersion): FormSpec {
  return specFromPreset(version === "quick" && p.quick ? quickSpec(p.spec, p.quick) : p.spec);
}

export function NewExperimentPage() {
  const [presetParam, setPresetParam] = useSearchParam("preset");
  const [versionParam, setVersionParam] = useSearchParam("version");
  const version: PresetVersion = versionParam === "quick" ? "quick" : "full";
  const presetsQ = usePresets();
  const datasetsQ = useDatasets();
  // The API's list is authoritative; the bundled contracts list keeps the form usable if it fails.
  const presets: TPresetInfo[] =
    presetsQ.data ?? PRESETS.map((p) => ({ ...p, spec: p.spec as Record<string, unknown> }));

  const [spec, setSpec] = useState<FormSpec>(() => {
    const p = PRESETS.find((x) => x.id === presetParam);
    return p ? presetSpec(p, version) : blankSpec();
  });
  // A preset only the API knows (newer than this bundle) fills the form once the list arrives,
  // unless the user has started editing.
  const touched = useRef(false);
  const apiPresets = presetsQ.data;
  useEffect(() => {
    if (touched.current || !presetParam || PRESETS.some((p) => p.id === presetParam)) return;
    const p = apiPresets?.find((x) => x.id === presetParam);
    if (p) setSpec(presetSpec(p, version));
  }, [apiPresets, presetParam, version]);
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

  const clientErrors = useMemo(() => validateSpec(spec, datasetsQ.data), [spec, datasetsQ.data]);
  // How long it would train, asked of the API while the form is one it would accept.
  const estimate = useEstimate(Object.keys(clientErrors).length ? null : spec);
  // Before the first submit only show what the API said; after it, live client-side checks too
  // (the API's message wins where both have one).
  const shown: FieldErrors = submitted ? { ...clientErrors, ...errors } : errors;
  // After a refused submit, move focus to the first field in error (in page order), so keyboard
  // and screen-reader users land on what to fix.
  const formRef = useRef<HTMLFormElement>(null);
  const [focusRequest, setFocusRequest] = useState(0);
  useEffect(() => {
    if (!focusRequest) return;
    const first = formRef.current?.querySelector<HTMLElement>(
      ".has-error input, .has-error select, .has-error textarea, [aria-invalid='true']",
    );
    first?.focus();
    first?.scrollIntoView({ block: "center" });
  }, [focusRequest]);

  const update = (path: string, value: unknown) => {
    idem.current = newIdempotencyKey(); // a changed form is a new request
    touched.current = true;
    setSpec((s) => setPath(s, path, value));
    if (errors[path]) setErrors(({ [path]: _, ...rest }) => rest);
  };
  const form: SpecFormBinding = { spec, datasets: datasetsQ.data, update, err: (path) => shown[path] };

  const choosePreset = (id: string, v: PresetVersion) => {
    setPresetParam(id === SCRATCH ? null : id);
    setVersionParam(id !== SCRATCH && v === "quick" ? "quick" : null);
    const p = presets.find((x) => x.id === id);
    setSpec(p ? presetSpec(p, v) : blankSpec());
    setErrors({});
    setSubmitted(false);
    idem.current = newIdempotencyKey();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    setTopError(null);
    setErrors({});
    // Checked here first, in the form's words: a spec the API would refuse is not sent. The API
    // stays the authority for what only it knows (its answers land under the same fields).
    const bad = Object.keys(clientErrors).length;
    if (bad) {
      setTopError(
        `${bad === 1 ? "One field needs" : `${bad} fields need`} fixing before the experiment can start.`,
      );
      setFocusRequest((n) => n + 1);
      return;
    }
    try {
      const exp = await create.mutateAsync({ body: spec, idempotencyKey: idem.current });
      navigate(`/experiments/${exp.id}`);
    } catch (ex) {
      if (ex instanceof ApiError && ex.problem?.errors?.length) {
        setErrors(ex.fieldErrors());
        setTopError(ex.message);
        setFocusRequest((n) => n + 1);
      } else {
        setTopError(errorMessage(ex));
      }
    }
  };

  return (
    <form ref={formRef} className="new-exp" onSubmit={submit} noValidate aria-label="new experiment">
      <div className="page-head">
        <h1>New experiment</h1>
      </div>
      {cloned ? (
        <p className="muted" data-testid="cloned-from">
          Filled with the spec of “{cloned.name}”; change what you like and submit.
        </p>
      ) : null}
      <PresetPicker
        presets={presets}
        selected={presetParam ?? SCRATCH}
        version={version}
        onChoose={choosePreset}
      />
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
        estimate={estimate.data}
        estimatePending={estimate.isPending && estimate.fetchStatus !== "idle"}
      />
    </form>
  );
}
