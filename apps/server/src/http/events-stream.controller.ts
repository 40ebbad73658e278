import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { quoteForMessage } from '@orchestron/definitions';
import type { FeedEvent, RunService } from '@orchestron/runtime';
import type { FastifyReply } from 'fastify';
import { errorResponses } from './api-models.ts';
import { maySee, tenantScope } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, HISTORY_READERS, READERS, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { RequestError } from './errors.ts';
import { EventStreamQuery } from './events-stream.dto.ts';
import { RUN_SERVICE, STREAM_LIMITS } from './tokens.ts';

export interface StreamLimits {
  /** Event streams one key may hold open at once; one more is answered 429 STREAM.TOO_MANY. */
  readonly perKey: number;
  /** How often an idle stream sends a comment, so proxies and browsers keep it open. */
  readonly heartbeatMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { perKey: 16, heartbeatMs: 15_000 };

/** What one stream may hold unsent before its client counts as gone. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const LAST_EVENT_ID_RULE = 'Last-Event-ID must be a non-negative integer (the id of an event this stream sent)';

/** Server-Sent Events: the run events of the caller's tenant (or one run) as they are recorded. */
export class EventsStreamController {
  readonly #runs: RunService;
  readonly #limits: StreamLimits;
  readonly #open = new Map<string, number>();

  constructor(runs: RunService, limits: StreamLimits) {
    this.#runs = runs;
    this.#limits = limits;
  }

  async stream(
    query: EventStreamQuery,
    lastEventId: string | undefined,
    caller: Principal,
    reply: FastifyReply,
  ): Promise<void> {
    const tenant = tenantScope(caller, query.tenant);
    if (query.run !== undefined) await this.#mustSee(query.run, caller);
    const after = resumePoint(lastEventId, query.after);
    const held = this.#open.get(caller.keyId) ?? 0;
    if (held >= this.#limits.perKey)
      throw new RequestError(
        'STREAM.TOO_MANY',
        `key ${caller.keyId} holds ${held} open event streams, as many as one key may; close one first`,
        { limit: this.#limits.perKey },
      );
    this.#open.set(caller.keyId, held + 1);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (text: string): void => {
      if (raw.destroyed || raw.writableEnded) return;
      raw.write(text);
      // A client that stops reading is let go rather than buffered for: it resumes from its Last-Event-ID.
      if (raw.writableLength > MAX_BUFFERED_BYTES) raw.end();
    };
    send('retry: 2000\n: open\n\n');
    const withData = HISTORY_READERS.includes(caller.role);
    const subscription = this.#runs.followEvents(
      {
        ...(after !== undefined ? { after } : {}),
        ...(query.run !== undefined ? { runId: query.run } : {}),
        ...(tenant !== undefined ? { tenant } : {}),
        onError: () => raw.end(),
      },
      (fed) => send(frame(fed, withData)),
    );
    const heartbeat = setInterval(() => send(': ping\n\n'), this.#limits.heartbeatMs);
    raw.on('error', () => undefined);
    raw.once('close', () => {
      clearInterval(heartbeat);
      void subscription.close();
      const left = (this.#open.get(caller.keyId) ?? 1) - 1;
      if (left > 0) this.#open.set(caller.keyId, left);
      else this.#open.delete(caller.keyId);
    });
  }

  async #mustSee(runId: string, caller: Principal): Promise<void> {
    const known = this.#runs.cachedSummary(runId);
    const tenant = known?.tenant ?? (await this.#runs.getRun(runId))?.tenant;
    if (tenant === undefined || !maySee(caller, tenant))
      throw new RequestError('RUN.NOT_FOUND', `run ${quoteForMessage(runId)} does not exist`);
  }
}

/** Where a stream starts: the browser's Last-Event-ID on a reconnect, else `?after=`, else now. */
function resumePoint(header: string | undefined, after: number | undefined): number | undefined {
  if (header === undefined || header === '') return after;
  if (!/^\d{1,15}$/.test(header.trim()))
    throw new RequestError('REQUEST.INVALID', `${LAST_EVENT_ID_RULE}; got ${quoteForMessage(header)}`, {
      field: 'Last-Event-ID',
    });
  return Number(header.trim());
}

/** One SSE event: its id is the global position, which a reconnect sends back as Last-Event-ID. */
function frame({ runId, tenant, event }: FeedEvent, withData: boolean): string {
  const body = {
    position: event.position,
    runId,
    tenant,
    revision: event.revision,
    type: event.type,
    recordedAt: event.recordedAt,
    ...(withData ? { data: event.data, metadata: event.metadata } : {}),
  };
  return `id: ${event.position}\ndata: ${JSON.stringify(body)}\n\n`;
}

injectByToken(EventsStreamController, [RUN_SERVICE, STREAM_LIMITS]);
decorateClass(EventsStreamController, [
  Controller('v1/events'),
  ApiTags('events'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403),
]);
decorateMethod(
  EventsStreamController,
  'stream',
  [
    Get('stream'),
    Roles(...READERS),
    ApiOperation({
      summary: 'run events as they are recorded (Server-Sent Events)',
      description:
        "text/event-stream: one event per run event, `id` its global position and `data` JSON { position, runId, tenant, revision, type, recordedAt, data?, metadata? } (data and metadata for operator, auditor and admin keys). The caller's tenant only (an admin: every tenant, or ?tenant=); ?run= for one run. Starts now, or past Last-Event-ID (or ?after=) to resume. 429 STREAM.TOO_MANY when the key holds too many open streams.",
    }),
    ApiProduces('text/event-stream'),
    ApiHeader({ name: 'Last-Event-ID', required: false, description: 'resume past this position' }),
    ApiResponse({ status: 200, description: 'the stream (text/event-stream)' }),
    ...errorResponses(404, 429),
  ],
  [
    { decorator: Query(), type: EventStreamQuery },
    { decorator: Headers('last-event-id'), type: String },
    { decorator: Caller() },
    { decorator: Res() },
  ],
);
