import { type ActlabClient, createActlabClient } from "@actlab/client";

export { ApiError, expectBody, expectOk } from "@actlab/client";

const clients = new Map<string, ActlabClient>();

/**
 * The generated client (packages/client) for this key. The API is the page's own origin: it serves
 * the dashboard, and `vite dev` proxies /v1 to it, so paths stay relative (baseUrl "").
 */
export function apiClient(apiKey: string): ActlabClient {
  let client = clients.get(apiKey);
  if (!client) {
    client = createActlabClient({ baseUrl: "", apiKey });
    clients.set(apiKey, client);
  }
  return client;
}
