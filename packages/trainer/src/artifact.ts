import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import "./layers.js"; // registers RReLU and ActlabActivation for deserialization

/** A trained model in TensorFlow.js layers format: what model.json + the weights file hold. */
export interface TModelArtifact {
  topology: object;
  weightSpecs: object[];
  weights: Uint8Array;
  /** sha256 (hex) of `weights`. */
  sha256: string;
}

function toUint8(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((a, b) => a + b.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), off);
    off += p.byteLength;
  }
  return out;
}

export async function exportModel(model: tf.LayersModel): Promise<TModelArtifact> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  const a = saved as tf.io.ModelArtifacts | null;
  if (!a?.modelTopology || !a.weightSpecs || !a.weightData)
    throw new Error("model export produced no artifacts");
  const weights = toUint8(a.weightData as ArrayBuffer | ArrayBuffer[]);
  return {
    topology: a.modelTopology as object,
    weightSpecs: a.weightSpecs as object[],
    weights,
    sha256: createHash("sha256").update(weights).digest("hex"),
  };
}

/** Loads an artifact back into a model (custom layers are registered by importing this module). */
export async function loadArtifactModel(a: TModelArtifact): Promise<tf.LayersModel> {
  const buf = a.weights.buffer.slice(
    a.weights.byteOffset,
    a.weights.byteOffset + a.weights.byteLength,
  ) as ArrayBuffer;
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: a.topology as tf.io.ModelArtifacts["modelTopology"],
      weightSpecs: a.weightSpecs as tf.io.WeightsManifestEntry[],
      weightData: buf,
    }),
  );
}

/** Class probabilities and the most likely class for each input row. */
export function predict(
  model: tf.LayersModel,
  inputs: number[][],
): { probabilities: number[][]; classes: number[] } {
  const width = model.inputs[0]?.shape[1];
  for (const [i, row] of inputs.entries()) {
    if (!Array.isArray(row) || (typeof width === "number" && row.length !== width)) {
      throw new RangeError(
        `input ${i} has ${Array.isArray(row) ? row.length : "no"} values; the model takes ${width}`,
      );
    }
  }
  const probs = tf.tidy(() => model.predict(tf.tensor2d(inputs)) as tf.Tensor2D);
  try {
    const probabilities = probs.arraySync();
    const classes = probabilities.map((row) =>
      row.reduce((best, v, i, r) => (v > (r[best] as number) ? i : best), 0),
    );
    return { probabilities, classes };
  } finally {
    probs.dispose();
  }
}
