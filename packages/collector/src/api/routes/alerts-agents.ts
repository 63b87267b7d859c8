import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { acknowledgeAlert, alertCountsByLevel, listAlerts } from '../../db/alerts-repo.js';
import { listAgents, resolveHosts } from '../../db/agents-repo.js';
import { Level } from '../../types.js';
import { parseRange } from '../request-errors.js';
import { AckBody, AgentsResponse, Alert, AlertIdParams, AlertsQuery, AlertsResponse, ErrorResponse } from '../schemas.js';
import type { ApiDeps } from '../app.js';

export const alertAndAgentRoutes = (deps: ApiDeps): FastifyPluginAsyncZod =>
  async function alertsAndAgents(app) {
    app.get(
      '/alerts',
      {
        schema: {
          summary: 'Alerts whose activity overlaps the range',
          description: 'Newest activity first, with counts per level (of the alerts matching every filter but `level` and `limit`). `level` takes a level, a list, or `>=suspicious`.',
          tags: ['alerts'],
          querystring: AlertsQuery,
          response: { 200: AlertsResponse, 400: ErrorResponse },
        },
      },
      async (req) => {
        const r = parseRange(req.query, Date.now());
        const agentIds = r.hosts ? await resolveHosts(deps.pool, r.hosts) : undefined;
        const level = req.query.level;
        const names = level?.replace('>=', '').split(',') as (keyof typeof Level)[] | undefined;
        const alerts = await listAlerts(deps.pool, {
          fromMs: r.fromMs,
          toMs: r.toMs,
          minLevel: level?.startsWith('>=') ? Level[names![0]!] : undefined,
          levels: level && !level.startsWith('>=') ? names!.map((n) => Level[n]) : undefined,
          kind: req.query.kind,
          agentIds,
          acknowledged: req.query.acknowledged === undefined ? undefined : req.query.acknowledged === 'true',
          limit: req.query.limit,
        });
        const counts = await alertCountsByLevel(deps.pool, r.fromMs, r.toMs, agentIds, {
          kind: req.query.kind,
          acknowledged: req.query.acknowledged === undefined ? undefined : req.query.acknowledged === 'true',
        });
        return { range: { from: new Date(r.fromMs).toISOString(), to: new Date(r.toMs).toISOString(), hosts: r.hosts }, counts, alerts };
      },
    );

    app.post(
      '/alerts/:id/ack',
      {
        schema: {
          summary: 'Acknowledge an alert (or clear the acknowledgement with {"acknowledged": false})',
          tags: ['alerts'],
          params: AlertIdParams,
          body: AckBody,
          response: { 200: Alert, 400: ErrorResponse, 404: ErrorResponse },
        },
      },
      async (req, reply) => {
        const body = req.body ?? { acknowledged: true };
        const alert = await acknowledgeAlert(deps.pool, req.params.id, body.by ?? null, body.acknowledged);
        if (!alert) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no alert with id ${req.params.id}`, field: 'id' });
        deps.onAlertChanged?.(alert);
        return alert;
      },
    );

    app.get(
      '/agents',
      {
        schema: {
          summary: 'The fleet: every agent that has reported, online or stale',
          tags: ['agents'],
          response: { 200: AgentsResponse },
        },
      },
      async () => ({ agents: await listAgents(deps.pool, Date.now(), deps.staleAfterIntervals) }),
    );
  };
