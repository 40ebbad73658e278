import { HttpException } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { QUOTE_MAX_CHARS, quoteForMessage } from '@orchestron/definitions';
import type { Logger } from '@orchestron/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorContract } from './agent-contract.ts';
import type { NextAction } from './agent-contract.ts';
import { RequestError, retryAfterSeconds, StateRefusal, statusFor, toApiError } from './errors.ts';

/**
 * Every failure leaves through here as `{ error, agent_contract }`: RunService errors (DomainError,
 * DefinitionError, …) and our RequestErrors keep their code, and `statusFor` alone turns codes into statuses.
 * The HttpExceptions that reach it come from Nest and Fastify themselves: the not-found handler and body parsing.
 */
export class ApiExceptionFilter implements ExceptionFilter {
  readonly #logger: Logger;
  readonly #bodyLimit: number;

  constructor(logger: Logger, limits: { readonly bodyLimit: number }) {
    this.#logger = logger;
    this.#bodyLimit = limits.bodyLimit;
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const api = toApiError(
      exception instanceof HttpException ? fromHttpException(exception, request, this.#bodyLimit) : exception,
    );
    if (api.code === 'INTERNAL')
      this.#logger.error('request failed', {
        method: request.method,
        url: request.url,
        error: String((exception as Error)?.stack ?? exception),
      });
    const retryAfter = retryAfterSeconds(api.code);
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    const contract =
      exception instanceof StateRefusal
        ? exception.contract
        : errorContract(api.retryable, retryHint(request, retryAfter));
    void reply.code(statusFor(api.code)).send({ error: api, agent_contract: contract });
  }
}

/** What an agent does with a 503: the same call again, once Retry-After has passed. */
function retryHint(request: FastifyRequest, retryAfter: number | undefined): NextAction | undefined {
  if (retryAfter === undefined || (request.method !== 'GET' && request.method !== 'POST')) return undefined;
  return {
    action: 'retry',
    method: request.method,
    endpoint: request.url,
    description: `repeat the same call in ${retryAfter} s (Retry-After); a start keeps its idempotencyKey, so it runs once`,
  };
}

function fromHttpException(exception: HttpException, request: FastifyRequest, bodyLimit: number): unknown {
  switch (exception.getStatus()) {
    case 404: {
      // Our handlers never throw NotFoundException: this is Nest's handler for a path no route matches.
      const url = request.url.length > QUOTE_MAX_CHARS ? quoteForMessage(request.url) : request.url;
      return new RequestError('ROUTE.NOT_FOUND', `no route ${request.method} ${url}`);
    }
    case 413:
      // Fastify refuses the body as it streams in (or from its Content-Length), before any parser sees it.
      return new RequestError(
        'REQUEST.TOO_LARGE',
        `the body is larger than the limit of ${bodyLimit} bytes (${bodyLimit / 1024 / 1024} MiB)`,
        { limit: 'size', max: bodyLimit },
      );
    case 415:
      return new RequestError('REQUEST.UNSUPPORTED_MEDIA_TYPE', exception.message);
    default:
      return exception.getStatus() < 500 ? new RequestError('REQUEST.INVALID', exception.message) : exception;
  }
}
