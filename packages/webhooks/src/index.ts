export {
  hostOf,
  isAllowedAddress,
  PUBLIC_ONLY,
  type TargetPolicy,
  targetProblem,
  ZAllowedHosts,
} from "./policy.js";
export { type AttemptOutcome, sendWebhook } from "./send.js";
export { createSecret, type SignedHeaders, signedHeaders } from "./sign.js";
