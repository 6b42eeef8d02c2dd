/** One bad field of a request, as the API reports it in a problem's `errors`. */
export interface TSpecIssue {
  path: string;
  message: string;
}

/** Dotted path of a zod issue, as the API reports it (`training.epochs`, `variants.2.alpha`). */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map(String).join(".") || "(body)";
}
