// The preload, bundled into one CommonJS file: a sandboxed preload can require
// only 'electron' (and a few built-ins), not ../common/ipc.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist/preload',
    emptyOutDir: false,
    target: 'node20',
    minify: false,
    sourcemap: false,
    lib: { entry: 'src/preload/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
