import { z } from "zod";
import { issuePath, type TSpecIssue } from "./issues.js";
import { findPreset, mergeSpec, PRESET_IDS } from "./presets.js";
import { DEFAULT_MOMENTUM, type TExperimentSpec, ZExperimentSpec } from "./spec.js";

/**
 * Turns a POST /experiments body into a full spec: `{ preset, ...overrides }` starts from the
 * named preset, anything else is a spec of its own. Returns the bad fields instead of throwing.
 */
export function resolveExperimentRequest(
  body: unknown,
): { ok: true; spec: TExperimentSpec } | { ok: false; issues: TSpecIssue[] } {
  let candidate = body;
  if (typeof body === "object" && body !== null && !Array.isArray(body) && "preset" in body) {
    const { preset, ...overrides } = body as { preset: unknown } & Record<string, unknown>;
    const found = typeof preset === "string" ? findPreset(preset) : undefined;
    if (!found) {
      return { ok: false, issues: [{ path: "preset", message: `unknown preset ${JSON.stringify(preset)}` }] };
    }
    candidate = mergeSpec(found.spec, overrides);
  }
  const parsed = ZExperimentSpec.safeParse(candidate);
  if (parsed.success) return { ok: true, spec: withoutUnusedFields(parsed.data) };
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message })),
  };
}

/**
 * The spec as stored: the momentum optimizer's momentum filled in, and left out for the others
 * (plain SGD and Adam use none).
 */
function withoutUnusedFields(spec: TExperimentSpec): TExperimentSpec {
  const { momentum, ...optimizer } = spec.training.optimizer;
  const stored =
    optimizer.name === "momentum" ? { ...optimizer, momentum: momentum ?? DEFAULT_MOMENTUM } : optimizer;
  return { ...spec, training: { ...spec.training, optimizer: stored } };
}

/**
 * `POST /v1/experiments` body as documented: a full spec, or a preset id plus any overrides.
 * The API validates it with resolveExperimentRequest, which says which field is wrong (this
 * union alone could only say that no member matched).
 */
export const ZCreateExperimentBody = z
  .union([
    ZExperimentSpec,
    z
      .object({ preset: z.enum(PRESET_IDS).describe("id from GET /v1/presets; other fields override it") })
      .loose(),
  ])
  // The docs' "Try it out" body: the README's quick look (2 runs of about 10 s), not the schema's
  // defaults, which would queue every activation × 3 repeats × 30 epochs.
  .meta({
    example: {
      name: "quick look",
      dataset: { samples: 2000 },
      model: { hiddenLayers: 4, units: 64 },
      variants: [{ activation: "sigmoid" }, { activation: "relu" }],
      training: { epochs: 10, repeats: 1, batchSize: 50, optimizer: { learningRate: 0.05 } },
    },
  });
export type TCreateExperimentBody = z.input<typeof ZCreateExperimentBody>;
