import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parseQuery } from '@nta/shared';
import { searchFlows, decodeCursor } from '../../db/flows-query.js';
import { resolveHosts } from '../../db/agents-repo.js';
import { compileFilterSql } from '../../query/index.js';
import { BadRequest, parseRange, queryError } from '../request-errors.js';
import { ErrorResponse, FlowsQuery, FlowsResponse } from '../schemas.js';
import type { ApiDeps } from '../app.js';

export const flowRoutes = (deps: ApiDeps): FastifyPluginAsyncZod =>
  async function flows(app) {
    app.get(
      '/flows',
      {
        schema: {
          summary: 'Search stored flows',
          description: 'Flows in a time range matching a filter, newest first, with cursor pagination.',
          tags: ['flows'],
          querystring: FlowsQuery,
          response: { 200: FlowsResponse, 400: ErrorResponse },
        },
      },
      async (req) => {
        const range = parseRange(req.query, Date.now());
        const text = req.query.q ?? '';
        let ast;
        try {
          ast = parseQuery(text);
        } catch (err) {
          throw queryError(err);
        }
        const params: unknown[] = [];
        const clauses: string[] = [];
        if (ast) clauses.push(compileFilterSql(ast, params));
        const hosts = range.hosts ? await resolveHosts(deps.pool, range.hosts) : null;
        if (hosts) clauses.push(`agent_id = ANY($${params.push(hosts)}::text[])`);
        let cursor;
        if (req.query.cursor) {
          cursor = decodeCursor(req.query.cursor);
          if (!cursor) throw new BadRequest('cursor', 'not a cursor this API issued');
        }
        const result = await searchFlows(deps.pool, {
          fromMs: range.fromMs,
          toMs: range.toMs,
          filterSql: clauses.length > 0 ? clauses.join(' AND ') : undefined,
          filterParams: params,
          limit: req.query.limit,
          cursor,
        });
        const flowsOut = result.flows.map((f) => ({ ...f, srcGeo: deps.geoInfo?.(f.src) ?? null, dstGeo: deps.geoInfo?.(f.dst) ?? null }));
        return {
          range: { from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString(), hosts: range.hosts },
          query: text,
          flows: flowsOut,
          nextCursor: result.nextCursor,
        };
      },
    );
  };
