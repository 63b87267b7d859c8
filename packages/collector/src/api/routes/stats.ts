import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { geoStats, levelStats, protocolStats, timeline, topTalkers, type StatsRange } from '../../db/stats-queries.js';
import { resolveHosts } from '../../db/agents-repo.js';
import { parseRange, parseStep, type ParsedRange } from '../request-errors.js';
import { ErrorResponse, GeoResponse, LevelsResponse, ProtocolsResponse, RangeQuery, TimelineQuery, TimelineResponse, TopTalkersQuery, TopTalkersResponse } from '../schemas.js';
import type { ApiDeps } from '../app.js';

export const statsRoutes = (deps: ApiDeps): FastifyPluginAsyncZod =>
  async function stats(app) {
    const statsRange = async (r: ParsedRange): Promise<StatsRange> => ({
      fromMs: r.fromMs,
      toMs: r.toMs,
      agentIds: r.hosts ? await resolveHosts(deps.pool, r.hosts) : undefined,
    });
    const rangeOut = (r: ParsedRange) => ({ from: new Date(r.fromMs).toISOString(), to: new Date(r.toMs).toISOString(), hosts: r.hosts });

    app.get(
      '/stats/top-talkers',
      {
        schema: {
          summary: 'Top talkers',
          description: 'Addresses (or address pairs) with the most bytes, packets or flows in the range; every stored flow counted.',
          tags: ['stats'],
          querystring: TopTalkersQuery,
          response: { 200: TopTalkersResponse, 400: ErrorResponse },
        },
      },
      async (req) => {
        const r = parseRange(req.query, Date.now());
        const talkers = await topTalkers(deps.pool, await statsRange(r), req.query.by, req.query.metric, req.query.limit);
        return { range: rangeOut(r), by: req.query.by, metric: req.query.metric, talkers };
      },
    );

    app.get(
      '/stats/protocols',
      {
        schema: {
          summary: 'Traffic per protocol',
          tags: ['stats'],
          querystring: RangeQuery,
          response: { 200: ProtocolsResponse, 400: ErrorResponse },
        },
      },
      async (req) => {
        const r = parseRange(req.query, Date.now());
        return { range: rangeOut(r), protocols: await protocolStats(deps.pool, await statsRange(r)) };
      },
    );

    app.get(
      '/stats/levels',
      {
        schema: {
          summary: 'Flows per score level',
          description: 'Flows, packets and bytes scored normal, suspicious and malicious (a threat-feed hit is malicious).',
          tags: ['stats'],
          querystring: RangeQuery,
          response: { 200: LevelsResponse, 400: ErrorResponse },
        },
      },
      async (req) => {
        const r = parseRange(req.query, Date.now());
        return { range: rangeOut(r), levels: await levelStats(deps.pool, await statsRange(r)) };
      },
    );

    app.get(
      '/stats/timeline',
      {
        schema: {
          summary: 'Flows, packets and bytes per time step',
          description: 'Each flow is counted in the step where it started.',
          tags: ['stats'],
          querystring: TimelineQuery,
          response: { 200: TimelineResponse, 400: ErrorResponse },
        },
      },
      async (req) => {
        const r = parseRange(req.query, Date.now());
        const stepMs = parseStep(req.query.step, r.toMs - r.fromMs);
        return { range: rangeOut(r), stepMs, points: await timeline(deps.pool, await statsRange(r), stepMs, deps.storageFlavor === 'timescaledb') };
      },
    );

    app.get(
      '/stats/geo',
      {
        schema: {
          summary: 'Traffic per country',
          description: 'A flow counts once for each country it touches. Non-public addresses are grouped by scope (private, loopback, ...).',
          tags: ['stats'],
          querystring: RangeQuery,
          response: { 200: GeoResponse, 400: ErrorResponse },
        },
      },
      async (req) => {
        const r = parseRange(req.query, Date.now());
        return { range: rangeOut(r), countries: await geoStats(deps.pool, await statsRange(r)) };
      },
    );
  };
