/**
 * Serves the console (the dashboard package's built files) at `/`. Hashed assets are cached
 * for a year; index.html is revalidated so a new build reaches browsers at once. Without a
 * build, `/` says how to make one instead of a bare 404.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The console directory: NTA_CONSOLE_DIR, else the dashboard package's dist/ if it resolves. */
export async function resolveConsoleDir(configured: string | undefined): Promise<string | undefined> {
  if (configured) return configured;
  try {
    const mod = (await import('@nta/dashboard')) as { consoleDir: URL };
    return fileURLToPath(mod.consoleDir);
  } catch {
    return undefined;
  }
}

export function consoleRegistrar(dir: string | undefined) {
  return async (app: FastifyInstance): Promise<void> => {
    if (!dir || !existsSync(join(dir, 'index.html'))) {
      app.get('/', { schema: { hide: true } }, (_req, reply) =>
        reply
          .code(503)
          .type('text/html; charset=utf-8')
          .send(
            `<!doctype html><meta charset="utf-8"><title>NTA</title><body style="background:#040706;color:#d9f2e4;font-family:monospace;padding:2rem">` +
              `<h1 style="color:#39ff88">NTA collector</h1><p>The console is not built${dir ? ` (no index.html in ${escapeHtml(dir)})` : ''}. ` +
              `Run <code>pnpm run build</code> in the NTA checkout, or set NTA_CONSOLE_DIR. The API is at <a style="color:#39ff88" href="/api/v1/docs">/api/v1/docs</a>.</p>`,
          ),
      );
      return;
    }
    await app.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      setHeaders(res, path) {
        res.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
        res.header('x-content-type-options', 'nosniff');
      },
    });
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
