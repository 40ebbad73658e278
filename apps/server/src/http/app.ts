import 'reflect-metadata';
import { Module } from '@nestjs/common';
import type { DynamicModule, LoggerService, Provider } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { jsonLogger } from '@orchestron/runtime';
import type { Logger, RunService } from '@orchestron/runtime';
import { ApiExceptionFilter } from './api-exception.filter.ts';
import { AuthGuard } from './auth.guard.ts';
import type { ApiKey } from './auth.ts';
import { decorateClass } from './decorate.ts';
import { DefinitionsController } from './definitions.controller.ts';
import { DiscoveryController } from './discovery.controller.ts';
import type { OpenApiHolder } from './discovery.controller.ts';
import { useJsonBodyParser } from './json-body.ts';
import { MetricsController } from './metrics.controller.ts';
import type { MetricsSource } from './metrics.controller.ts';
import { DELIVERY_READER, NO_DELIVERIES, NotificationsController } from './notifications.controller.ts';
import type { DeliveryReader } from './notifications.controller.ts';
import { createOpenApiDocument } from './openapi.ts';
import { ForkController } from './fork.controller.ts';
import { EventsController } from './events.controller.ts';
import { RunsController } from './runs.controller.ts';
import { SchedulesController } from './schedules.controller.ts';
import { RunListController } from './runs-list.controller.ts';
import { DEFAULT_STREAM_LIMITS, EventsStreamController } from './events-stream.controller.ts';
import type { StreamLimits } from './events-stream.controller.ts';
import { AUDIT, KEY_RING, MCP_API, METRICS, OPENAPI_DOCUMENT, RUN_SERVICE, STREAM_LIMITS } from './tokens.ts';
import { WhoAmIController } from './whoami.controller.ts';
import { serveConsole } from './console-assets.ts';
import { AuditController } from './audit.controller.ts';
import { AUDIT_EVENTS, AuditEventsController } from './audit-events.controller.ts';
import { DEAD_LETTERS, DeadLettersController } from './dead-letters.controller.ts';
import { HeldStepsController } from './held-steps.controller.ts';
import { LocksController } from './locks.controller.ts';
import type { DeadLetterLog } from '../dead-letters.ts';
import type { AuditIndexStore } from '@orchestron/event-store';
import type { AuditService } from '../audit.ts';
import { KeysController } from './keys.controller.ts';
import { McpController } from './mcp.controller.ts';
import type { McpApiHolder } from './mcp.controller.ts';
import { KeyRing } from '../keys/key-ring.ts';
import { RequestValidationPipe } from './validation.pipe.ts';

export interface HttpAppOptions {
  /** What the API serves: the embedded Engine, or the production tier's remote RunService. */
  readonly runs: RunService;
  /** The keys it accepts: a KeyRing (with issued keys when it has a store), or configured keys alone. */
  readonly keys: KeyRing | readonly ApiKey[];
  /** Served at GET /metrics (operator, auditor, admin) when given. */
  readonly metrics?: MetricsSource;
  /** Webhook deliveries, served at GET /v1/notifications; default none. */
  readonly notifications?: DeliveryReader;
  /** The verifiable log's routes (/v1/audit); they answer 409 AUDIT.UNAVAILABLE without it. */
  readonly audit?: AuditService | null;
  /** The store's audit index, served at GET /v1/audit/events; without it that route answers 409 AUDIT.UNAVAILABLE. */
  readonly auditEvents?: AuditIndexStore;
  /** The dead-letter topic, served at /v1/dead-letters; without it those routes answer 409 DLQ.UNAVAILABLE. */
  readonly deadLetters?: DeadLetterLog;
  /** Failed requests and Nest's own warnings and errors; default JSON lines on stderr. */
  readonly logger?: Logger;
  /**
   * How long a request may take to arrive, headers and body, before it is answered 408 and its connection
   * closed; default 10 s. A client that sends less body than its Content-Length would otherwise hold a socket
   * (and its buffered bytes) for as long as it likes.
   */
  readonly requestTimeoutMs?: number;
  /** Open event streams per key and their heartbeat (GET /v1/events/stream); default DEFAULT_STREAM_LIMITS. */
  readonly streams?: Partial<StreamLimits>;
  /** The built web console served at /console; default apps/console/dist (not served when it is not built). */
  readonly consoleDir?: string | null;
}

export interface HttpApp {
  readonly nest: NestFastifyApplication;
  readonly openapi: OpenAPIObject;
  /** Starts listening; resolves to the base URL, e.g. http://127.0.0.1:3000. */
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

const BODY_LIMIT = 4 * 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/**
 * Fastify's router answers 404 for a path parameter longer than maxParamLength (100 by default), so a long run id
 * would be "no route" instead of a 400 stating the id rule. Node's 16 KiB header limit already bounds the URL of
 * any real request; this only makes sure a matched route, not the router, judges the parameter.
 */
const MAX_PARAM_LENGTH = BODY_LIMIT;

class HttpModule {}
decorateClass(HttpModule, [Module({})]);

/**
 * The HTTP edge as a Nest application on Fastify. Every route but health and discovery needs a key, and each
 * declares the roles it admits; every response, errors included, carries an agent_contract.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const logger = options.logger ?? jsonLogger({ service: 'orchestron-http' });
  const holder: OpenApiHolder = { document: null };
  const mcpApi: McpApiHolder = { fastify: null };
  const keys = options.keys instanceof KeyRing ? options.keys : await KeyRing.open({ config: options.keys });
  const providers: Provider[] = [
    { provide: RUN_SERVICE, useValue: options.runs },
    { provide: KEY_RING, useValue: keys },
    { provide: OPENAPI_DOCUMENT, useValue: holder },
    { provide: MCP_API, useValue: mcpApi },
    { provide: DELIVERY_READER, useValue: options.notifications ?? NO_DELIVERIES },
    { provide: AUDIT, useValue: options.audit ?? null },
    { provide: AUDIT_EVENTS, useValue: options.auditEvents ?? null },
    { provide: DEAD_LETTERS, useValue: options.deadLetters ?? null },
    { provide: STREAM_LIMITS, useValue: { ...DEFAULT_STREAM_LIMITS, ...options.streams } },
    ...(options.metrics ? [{ provide: METRICS, useValue: options.metrics }] : []),
  ];
  const module: DynamicModule = {
    module: HttpModule,
    controllers: [
      DiscoveryController,
      RunListController,
      RunsController,
      ForkController,
      EventsController,
      SchedulesController,
      DefinitionsController,
      KeysController,
      NotificationsController,
      AuditController,
      AuditEventsController,
      DeadLettersController,
      HeldStepsController,
      LocksController,
      McpController,
      EventsStreamController,
      WhoAmIController,
      ...(options.metrics ? [MetricsController] : []),
    ],
    providers,
  };
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const adapter = new FastifyAdapter({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // close() does not wait for idle keep-alive sockets, so tests and shutdowns end promptly.
    forceCloseConnections: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestTimeout,
    // Node looks for late requests only every connectionsCheckingInterval (30 s by default): the timeout would be
    // up to 30 s late. Headers may not take longer than the whole request.
    http: {
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(requestTimeout / 4))),
      headersTimeout: Math.min(60_000, requestTimeout),
    },
  });
  useJsonBodyParser(adapter.getInstance(), BODY_LIMIT);
  mcpApi.fastify = adapter.getInstance();
  serveConsole(adapter.getInstance(), options.consoleDir);
  const nest = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: nestLogger(logger),
    // Only our JSON parser (json-body.ts): no urlencoded bodies.
    bodyParser: false,
    // The RunService is a provider value; hashing it into a module id would walk the whole engine.
    moduleIdGeneratorAlgorithm: 'reference',
  });
  nest.useGlobalGuards(new AuthGuard(keys, nest.get(Reflector)));
  nest.useGlobalPipes(new RequestValidationPipe());
  nest.useGlobalFilters(new ApiExceptionFilter(logger, { bodyLimit: BODY_LIMIT }));
  const openapi = createOpenApiDocument(nest);
  holder.document = openapi as unknown as Record<string, unknown>;
  await nest.init();
  return {
    nest,
    openapi,
    async listen(host, port) {
      await nest.listen(port, host);
      const address = nest.getHttpServer().address();
      if (address === null || typeof address === 'string')
        throw new Error(`the HTTP server did not bind a TCP address (got ${JSON.stringify(address)})`);
      return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    },
    close: () => nest.close(),
  };
}

/** Nest's warnings and errors go to our logger; its start-up chatter (mapped routes, …) does not. */
function nestLogger(logger: Logger): LoggerService {
  const text = (message: unknown): string =>
    message instanceof Error
      ? String(message.stack ?? message)
      : typeof message === 'string'
        ? message
        : JSON.stringify(message);
  return {
    log: () => undefined,
    warn: (message: unknown, context?: unknown) => logger.warn(text(message), { context }),
    error: (message: unknown, ...rest: unknown[]) => logger.error(text(message), { detail: rest.map(text) }),
  };
}
