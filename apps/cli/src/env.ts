import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

/**
 * What the CLI reads from its environment, parsed once in main.ts; nothing else reads process.env.
 * The CLI is a client, so none of this belongs in the server's .env.example.
 */
export const ZCliEnv = z.object({
  /** The API key, instead of (and ahead of) the one `actlab login` stored. */
  ACTLAB_API_KEY: z.string().min(1).optional(),
  /** Where the API is, unless --api-url says otherwise. */
  ACTLAB_API_URL: z.url().optional(),
  /** Where `actlab login` keeps config.json; default $XDG_CONFIG_HOME/actlab or ~/.config/actlab. */
  ACTLAB_CONFIG_DIR: z.string().min(1).optional(),
  XDG_CONFIG_HOME: z.string().min(1).optional(),
});
export type TCliEnv = z.infer<typeof ZCliEnv>;

export function configDir(env: TCliEnv): string {
  if (env.ACTLAB_CONFIG_DIR) return env.ACTLAB_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "actlab");
}
