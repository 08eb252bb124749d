import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * `npm run dev` against a running local stack (source .local/run/csms.env first; scripts/run.sh
 * lets http://localhost:5173 call the API and sign in): /config.json as the web door serves it.
 */
function devConfig(): Plugin {
  return {
    name: 'csms-dev-config',
    configureServer(server) {
      server.middlewares.use('/config.json', (_request, response) => {
        const issuer = process.env.CSMS_ISSUER_URL ?? '';
        response.setHeader('content-type', 'application/json');
        response.end(
          JSON.stringify({
            apiUrl: process.env.CSMS_API_URL ?? '',
            auth: {
              authorizeUrl: `${issuer}/oauth2/authorize`,
              tokenUrl: `${issuer}/oauth2/token`,
              logoutUrl: `${issuer}/logout`,
              clientId: process.env.CSMS_API_AUDIENCE ?? 'csms-local-app',
            },
            map: {
              tileUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
              attribution: '© OpenStreetMap contributors',
              center: [52.3702, 4.8952],
            },
          }),
        );
      });
    },
  };
}

// Two apps, one build: the driver app at / and the operator console at /console/, sharing
// their components and API client (common chunks are emitted once).
export default defineConfig({
  plugins: [react(), devConfig()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rollupOptions: {
      input: { driver: here('index.html'), console: here('console/index.html') },
    },
  },
  server: { port: 5173 },
  test: { include: ['src/**/*.test.ts'] },
});
