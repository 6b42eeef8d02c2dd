import react from "@vitejs/plugin-react";
import { defaultClientConditions, defineConfig } from "vite";

// During `vite dev` the API runs elsewhere; everything under /v1 is proxied to it.
const apiTarget = process.env["ACTLAB_API_URL"] ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react()],
  // Workspace packages export their TypeScript sources under the "source" condition, so
  // @actlab/contracts is bundled from src/ and never needs a `tsc -b` first.
  resolve: { conditions: ["source", ...defaultClientConditions] },
  server: {
    proxy: { "/v1": { target: apiTarget, changeOrigin: true } },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 400,
  },
});
