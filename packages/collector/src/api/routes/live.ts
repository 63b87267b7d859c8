/**
 * WebSocket /api/v1/live. The client may pass `?q=<filter>&flows=0|1` and later send
 * `{"type":"subscribe","q":"...","flows":true}`. Server messages: `hello`, `subscribed`,
 * `error` (with `field` and `position` for a bad filter), `stats`, `flows`, `alerts`, `agents`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { parseQuery, QuerySyntaxError } from '@nta/shared';
import { compileFilterPredicate } from '../../query/index.js';
import type { LiveClientFilter } from '../../live/live-hub.js';
import type { ApiDeps } from '../app.js';

const MAX_CLIENT_MESSAGE_BYTES = 8 * 1024;

function buildFilter(q: string, flows: boolean): LiveClientFilter {
  const ast = parseQuery(q);
  return { query: q, ast, predicate: ast ? compileFilterPredicate(ast) : null, flows };
}

function errorMessage(err: unknown): string {
  return JSON.stringify({
    type: 'error',
    field: 'q',
    message: (err as Error).message,
    position: err instanceof QuerySyntaxError ? err.position : undefined,
  });
}

export const liveRoutes = (deps: ApiDeps): FastifyPluginAsync =>
  async function live(app) {
    app.get('/live', { websocket: true, schema: { hide: true } }, (socket, req) => {
      const query = req.query as Record<string, string | undefined>;
      let filter: LiveClientFilter;
      try {
        filter = buildFilter(String(query.q ?? ''), query.flows !== '0');
      } catch (err) {
        socket.send(errorMessage(err));
        socket.close(1008, 'invalid filter');
        return;
      }
      const client = deps.live.add(socket, filter);
      deps.metrics.liveClients.set(deps.live.size);
      socket.send(JSON.stringify({ type: 'hello', serverTimeMs: Date.now(), q: filter.query }));
      socket.on('message', (raw: Buffer, isBinary: boolean) => {
        if (isBinary || raw.length > MAX_CLIENT_MESSAGE_BYTES) {
          socket.send(JSON.stringify({ type: 'error', message: `messages must be JSON text under ${MAX_CLIENT_MESSAGE_BYTES} bytes` }));
          return;
        }
        let msg: { type?: unknown; q?: unknown; flows?: unknown };
        try {
          msg = JSON.parse(raw.toString('utf8'));
        } catch {
          socket.send(JSON.stringify({ type: 'error', message: 'not JSON' }));
          return;
        }
        if (msg?.type !== 'subscribe') {
          socket.send(JSON.stringify({ type: 'error', message: 'unknown message type; expected {"type":"subscribe","q":"..."}' }));
          return;
        }
        try {
          const next = buildFilter(typeof msg.q === 'string' ? msg.q : '', msg.flows !== false);
          deps.live.setFilter(client, next);
          socket.send(JSON.stringify({ type: 'subscribed', q: next.query }));
        } catch (err) {
          socket.send(errorMessage(err));
        }
      });
      socket.on('close', () => {
        deps.live.remove(client);
        deps.metrics.liveClients.set(deps.live.size);
      });
      socket.on('error', () => socket.terminate());
    });
  };
