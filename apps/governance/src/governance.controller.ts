import { Controller, Inject } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { parseGovernanceRequestMessage, Topics } from '@orchestron/bus';
import type { DeliveredMessage, MessageBus } from '@orchestron/bus';
import type { Logger } from '@orchestron/runtime';
import { injectHeaders, withSpan } from '@orchestron/telemetry';
import type { Metrics } from '@orchestron/telemetry';
import { GovernanceService } from './governance.service.ts';
import { GOVERNANCE_BUS, GOVERNANCE_LOGGER, GOVERNANCE_METRICS } from './governance.tokens.ts';

/** Trace context travels from the request to its decision, so one trace shows the whole check. */
const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

/**
 * The edge: a governance request in, its decision out. A request policies cannot evaluate is still answered (a
 * deny with code GOVERNANCE.UNEVALUABLE, from the service). Anything else that fails here (a request that is not
 * valid, a publish that does not go through) is thrown, so the bus dead-letters the request and publishes no
 * decision; the orchestrator's deadline then escalates the run.
 */
export class GovernanceController {
  readonly #service: GovernanceService;
  readonly #bus: MessageBus;
  readonly #logger: Logger;
  readonly #metrics: Metrics | null;

  constructor(service: GovernanceService, bus: MessageBus, logger: Logger, metrics: Metrics | null) {
    this.#service = service;
    this.#bus = bus;
    this.#logger = logger;
    this.#metrics = metrics;
  }

  async onRequest(message: DeliveredMessage): Promise<void> {
    const request = parseGovernanceRequestMessage(message.value);
    const attributes = {
      'orchestron.step.id': request.stepId,
      'orchestron.worker': request.worker,
      ...(request.action ? { 'orchestron.action': request.action } : {}),
    };
    await withSpan(
      'governance decide',
      { headers: message.headers ?? {}, runId: request.runId, kind: 'consumer', attributes },
      async (span) => {
        const decision = this.#service.decide(request);
        span.setAttributes({
          'orchestron.governance.outcome': decision.outcome,
          'orchestron.governance.policy': decision.policyId ?? '(none)',
        });
        // The decision carries this span's context: the orchestrator's handling of it is its child.
        await this.#bus.publish(Topics.governanceDecisions, [
          { key: decision.runId, value: decision, headers: { ...traceHeaders(message.headers), ...injectHeaders() } },
        ]);
        this.#metrics?.governanceDecisions.inc({ outcome: decision.outcome, policy: decision.policyId ?? '(none)' });
        this.#logger.info('governance decided', {
          requestId: decision.requestId,
          runId: decision.runId,
          stepId: decision.stepId,
          action: request.action,
          outcome: decision.outcome,
          policyId: decision.policyId,
          ...(decision.code === undefined ? {} : { code: decision.code }),
        });
      },
    );
  }
}
Reflect.decorate([Controller()], GovernanceController);
Inject(GovernanceService)(GovernanceController, undefined, 0);
Inject(GOVERNANCE_BUS)(GovernanceController, undefined, 1);
Inject(GOVERNANCE_LOGGER)(GovernanceController, undefined, 2);
Inject(GOVERNANCE_METRICS)(GovernanceController, undefined, 3);
// <string> picks the plain MethodDecorator overload (the typed one wants a typed descriptor).
Reflect.decorate(
  [EventPattern<string>(Topics.governanceRequests)],
  GovernanceController.prototype,
  'onRequest',
  Object.getOwnPropertyDescriptor(GovernanceController.prototype, 'onRequest'),
);

function traceHeaders(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of TRACE_HEADERS) {
    const value = headers?.[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}
