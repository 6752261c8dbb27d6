import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

const api = process.env.STOWAGE_DEV_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    manifest: true,
    sourcemap: false,
    // No inline scripts or data-URL modules: the page's CSP allows only this origin's files.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 450,
  },
  server: {
    proxy: Object.fromEntries(['/api', '/auth', '/s/'].map((p) => [p, { target: api, changeOrigin: false }])),
  },
});
