import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

// The collector serves dist/ at `/`; in development the dev server forwards the API to a
// running collector (NTA_API, default the one `npm start` runs).
const api = process.env.NTA_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: { conditions: ['@nta/source'] },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: {
      '/api': { target: api, ws: true },
      '/healthz': api,
    },
  },
});
