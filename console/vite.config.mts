// The renderer: one static build in dist/renderer, loaded by the Electron app
// (app://vigie/) and served by the collector at `/`. Relative asset paths
// (base './') and hash routing make it work under both without a rewrite.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev -w @vigie/console` proxies /api to a running collector (self-signed is fine in dev).
const collector = process.env.VIGIE_COLLECTOR_URL ?? 'https://localhost:8443';

export default defineConfig({
  root: 'src/renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../../dist/renderer',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: { '/api': { target: collector, changeOrigin: true, secure: false, ws: true } },
  },
});
