// Routes without auth: health, and the OpenAPI document generated from the route schemas.
// Imports fastify types and server/schemas.ts only.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HealthReply } from '../schemas';

export const metaRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/health',
    { schema: { summary: 'The server is up', security: [], response: { 200: HealthReply } } },
    async () => ({ status: 'ok' as const, time: Date.now() }),
  );
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};
