// GET /api/events: the user's server-sent events (event types and payloads in server/README.md).
// The token comes in the Authorization header only, so a browser reads this with fetch and a
// stream reader, not EventSource. @fastify/sse does the framing, the heartbeat comment and the
// wait for `drain`; stream.ts decides what to send and drops slow clients. Imports server/ modules.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { EventHub } from '../events/hub';
import { EventStream, startPosition, type StreamTuning } from '../events/stream';
import { ErrorReply, EventsHeaders } from '../schemas';
import type { StoredEvent } from '../store/job-store';
import type { Sync } from '../sync';

/** What a client over the stream caps is told to wait before retrying, in seconds. */
const RETRY_AFTER_S = 5;

export const eventRoutes: FastifyPluginAsyncZod<{ sync: Sync; hub: EventHub; tuning: StreamTuning }> = async (
  app,
  { sync, hub, tuning },
) => {
  app.get(
    '/api/events',
    {
      sse: { kind: 'only' },
      // A HEAD would open a stream that never sends a body yet holds a slot.
      exposeHeadRoute: false,
      schema: {
        summary: 'Server-sent events; send Last-Event-ID to resume without a gap',
        headers: EventsHeaders,
        response: { 400: ErrorReply, 503: ErrorReply },
      },
    },
    async (req, reply) => {
      const user = req.user;
      const header = req.headers['last-event-id'];
      const lastEventId = typeof header === 'string' ? Number(header) : null;
      // Subscribe before reading where the sequence stands, so no event falls in between.
      let stream: EventStream | null = null;
      const early: StoredEvent[] = [];
      let earlyLatest = 0;
      const release = hub.open(user, (events, latestSeq) => {
        if (stream) return stream.wake(events, latestSeq);
        early.push(...events);
        earlyLatest = Math.max(earlyLatest, latestSeq ?? 0);
      });
      if (release === null) {
        return reply
          .code(503)
          .header('Retry-After', String(RETRY_AFTER_S))
          .send({ error: 'too_many_streams', message: 'Too many open event streams; hold one per device.' });
      }
      let bounds: { last: number; oldest: number | null };
      try {
        bounds = await sync.store.eventBounds(user);
      } catch (err) {
        release();
        throw err;
      }
      const start = startPosition(lastEventId, bounds);
      stream = new EventStream(reply.sse, reply.raw, sync.store, user, { cursor: start.cursor, latest: bounds.last }, tuning, (reason) => {
        req.log.info({ reason }, 'event stream dropped');
        reply.raw.destroy();
      });
      const s = stream;
      const cleanUp = () => {
        s.close();
        release();
      };
      reply.sse.onClose(cleanUp);
      // A client that left while we read the bounds fired 'close' before onClose was registered.
      if (!reply.sse.isConnected) return cleanUp();
      reply.sse.keepAlive();
      reply.sse.sendHeaders();
      // Node sends the head with the first body bytes: a comment now, so the client's fetch
      // resolves at once rather than at the first heartbeat.
      reply.raw.write(': connected\n\n');
      if (start.resync !== null) {
        // The history the client asked for is gone: it must pull GET /api/jobs again.
        await reply.sse.send({ id: String(bounds.last), event: 'resync', data: { reason: start.resync, last_event_id: bounds.last } });
      }
      s.wake(early, earlyLatest);
      await s.pump();
    },
  );
};
