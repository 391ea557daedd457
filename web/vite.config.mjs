// The console is served by the Worker under /console/ (workers/routes/console.ts); scripts/build-console.mjs
// passes the output directory. Preact's automatic JSX runtime, no React compatibility layer.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/console/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    target: "es2022",
    assetsInlineLimit: 0,
    // One script and one stylesheet: the page's CSP allows same-origin files, no inline code.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
