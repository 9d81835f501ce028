import {defineConfig} from "vite";

// Served by trellisd under /explorer/ on its tlog listener; no CDN assets.
export default defineConfig({
  base: "/explorer/",
  build: {outDir: "dist", emptyOutDir: true, assetsInlineLimit: 0},
  server: {proxy: {"/explorer/api": "http://127.0.0.1:8091",
                   "/logs": "http://127.0.0.1:8091"}},
});
