/**
 * The HTTP side of the collector: REST API, WebSocket, OpenAPI document and docs page,
 * health and metrics. buildApp wires routes to their dependencies and never listens.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyError } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import type { LiveHub } from '../live/live-hub.js';
import type { Metrics } from '../metrics.js';
import type { AlertRow } from '../db/alerts-repo.js';
import { BadRequest } from './request-errors.js';
import { flowRoutes } from './routes/flows.js';
import { statsRoutes } from './routes/stats.js';
import { alertAndAgentRoutes } from './routes/alerts-agents.js';
import { liveRoutes } from './routes/live.js';

export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: unknown }>;
}

export interface ApiDeps {
  pool: Pool;
  live: LiveHub;
  metrics: Metrics;
  log: Logger;
  staleAfterIntervals: number;
  version: string;
  /** TimescaleDB queries use time_bucket. */
  storageFlavor: 'postgres' | 'timescaledb';
  health(): Promise<HealthReport>;
  /** Read-time GeoIP detail (city, coordinates, organisation) for flows in responses. */
  geoInfo?(ip: string): { scope: string; country: string | null; city: string | null; latitude: number | null; longitude: number | null; asn: number | null; asOrg: string | null } | null;
  onAlertChanged?(alert: AlertRow): void;
  /** Registers the console's static files (the dashboard package), if built. */
  registerConsole?(app: FastifyInstance): Promise<void>;
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // One line per request would drown the ingest logs; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 200 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issue = err.validation[0]!;
      const path = (issue.instancePath ?? '').replace(/^\//, '').split('/').filter(Boolean);
      const field = path[0] ?? (issue.params as { missingProperty?: string } | undefined)?.missingProperty ?? err.validationContext ?? 'request';
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `${field}: ${issue.message}`, field });
    }
    if (err instanceof BadRequest) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: err.message, field: err.field, position: err.position });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ statusCode: err.statusCode, error: 'Bad Request', message: err.message });
    }
    req.log.error({ err, url: req.url.slice(0, 500) }, 'request failed');
    return reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: 'the request could not be served; see the collector log' });
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'NTA collector API', version: deps.version, description: 'Flows, statistics, alerts and agents of an NTA fleet.' },
      tags: [{ name: 'flows' }, { name: 'stats' }, { name: 'alerts' }, { name: 'agents' }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/v1/docs' });
  await app.register(fastifyWebsocket, {
    options: { maxPayload: 64 * 1024 },
    // A client's oversized or broken frame is its problem, not an error of ours: note it and drop that socket.
    errorHandler: (err, socket, req) => {
      req.log.info({ err: err.message, url: req.url.slice(0, 200) }, 'WebSocket client error; closing it');
      socket.terminate();
    },
  });

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const report = await deps.health();
    return reply.code(report.ok ? 200 : 503).send(report);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  await app.register(
    async (api) => {
      await api.register(flowRoutes(deps));
      await api.register(statsRoutes(deps));
      await api.register(alertAndAgentRoutes(deps));
      await api.register(liveRoutes(deps));
    },
    { prefix: '/api/v1' },
  );
  if (deps.registerConsole) await deps.registerConsole(app);
  return app;
}
