import { z } from "zod";

/**
 * The engines a run can be trained on, best CPU one first: `native` (packages/native, OpenBLAS),
 * then TF.js's backends (`tensorflow-gpu` is @tensorflow/tfjs-node-gpu, `tensorflow`
 * @tensorflow/tfjs-node, `wasm`, the plain-JS `cpu`). Runs record theirs; workers can force one.
 */
export const BACKEND_NAMES = ["native", "tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export const ZBackendName = z.enum(BACKEND_NAMES);
export type TBackendName = z.infer<typeof ZBackendName>;
