import { Catch } from '@nestjs/common';
import type { INestMicroservice, LoggerService, LogLevel, RpcExceptionFilter } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { IEntryNestModule } from '@nestjs/core';
import { throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import type { BusTransport } from './bus-transport.ts';

/**
 * Hands a handler's own error to the transport. Without it Nest replaces any error that is not an
 * RpcException with "Internal server error", and the dead letter would not say what went wrong.
 */
export class BusExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
Catch()(BusExceptionFilter);

export interface BusMicroserviceOptions {
  /** Nest's own log output; default off (Orchestron services log JSON lines themselves). */
  readonly logger?: LoggerService | LogLevel[] | false;
}

/**
 * Creates (but does not start) a Nest microservice on `transport`, with `BusExceptionFilter` installed.
 * `await app.listen()` subscribes; `await app.close()` closes the subscription and the Nest context.
 */
export async function createBusMicroservice(
  module: IEntryNestModule,
  transport: BusTransport,
  options: BusMicroserviceOptions = {},
): Promise<INestMicroservice> {
  // abortOnError: false, so a module that fails to build throws here instead of aborting the process.
  const app = await NestFactory.createMicroservice(module, {
    strategy: transport,
    logger: options.logger ?? false,
    abortOnError: false,
  });
  app.useGlobalFilters(new BusExceptionFilter());
  return app;
}
