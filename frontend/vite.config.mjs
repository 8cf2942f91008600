// The judge page (web/) built into codeexec/http/static/web/, served at / with its
// assets under /web/assets/ (hashed names: cached for good; index.html is not).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("web"),
  base: "/web/",
  logLevel: "warn",
  build: {
    outDir: here("../codeexec/http/static/web"),
    emptyOutDir: true,
    assetsDir: "assets",
    modulePreload: { polyfill: false }, // an inline script otherwise; browsers have it
    assetsInlineLimit: 0, // files, not data: URLs: the page's CSP loads fonts from 'self' only
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  test: { include: ["test/**/*.test.js"] },
});
