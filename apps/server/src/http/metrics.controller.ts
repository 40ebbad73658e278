import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { errorResponses } from './api-models.ts';
import { HISTORY_READERS, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { METRICS } from './tokens.ts';

/** A source of Prometheus metrics, e.g. a prom-client Registry (`contentType`, `metrics()` as `render`). */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

/** Prometheus exposition; mounted only when createHttpApp is given a metrics source. */
export class MetricsController {
  readonly #metrics: MetricsSource;

  constructor(metrics: MetricsSource) {
    this.#metrics = metrics;
  }

  async scrape(reply: FastifyReply): Promise<string> {
    const text = await this.#metrics.render();
    void reply.header('content-type', this.#metrics.contentType);
    return text;
  }
}

injectByToken(MetricsController, [METRICS]);
decorateClass(MetricsController, [Controller(), ApiTags('observability'), ApiBearerAuth()]);
decorateMethod(
  MetricsController,
  'scrape',
  [
    Get('metrics'),
    Roles(...HISTORY_READERS),
    ApiOperation({ summary: 'Prometheus metrics (text exposition format)' }),
    ApiOkResponse({
      description: 'the Prometheus text exposition',
      content: { 'text/plain': { schema: { type: 'string' } } },
    }),
    ...errorResponses(401, 403),
  ],
  [{ decorator: Res({ passthrough: true }) }],
);
