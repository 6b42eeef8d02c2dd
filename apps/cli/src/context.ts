import { type ActlabClient, createActlabClient } from "@actlab/client";
import { type Connection, resolveConnection } from "./config.js";
import type { TCliEnv } from "./env.js";
import { type Output, stdio, UsageError } from "./output.js";

/** The options every command takes (commander's optsWithGlobals). */
export interface GlobalOptions {
  apiUrl?: string;
  json?: boolean;
}

/** What a command runs with: where the API is, a client for it, and where to print. */
export interface Context {
  env: TCliEnv;
  output: Output;
  connection: Connection;
  /** The typed client; throws UsageError when no API key is known. */
  client(): ActlabClient;
}

export function createContext(env: TCliEnv, options: GlobalOptions): Context {
  const connection = resolveConnection(env, options.apiUrl);
  return {
    env,
    output: stdio(Boolean(options.json)),
    connection,
    client() {
      if (!connection.apiKey) {
        throw new UsageError(`no API key for ${connection.apiUrl}: run actlab login, or set ACTLAB_API_KEY`);
      }
      return createActlabClient({ baseUrl: connection.apiUrl, apiKey: connection.apiKey });
    },
  };
}
