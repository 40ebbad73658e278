import { Controller, Inject } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { Topics } from '@orchestron/bus';
import type { DeliveredMessage } from '@orchestron/bus';
import type { Engine } from '@orchestron/runtime';
import type { Metrics } from '@orchestron/telemetry';

export const ORCHESTRATOR_ENGINE = Symbol('ORCHESTRATOR_ENGINE');
export const ORCHESTRATOR_METRICS = Symbol('ORCHESTRATOR_METRICS');

/**
 * The edge of the orchestrator service: every message about a run goes to the engine, which decides, appends,
 * then dispatches. A failure is thrown back to the transport, which dead-letters the message with the reason.
 */
export class OrchestratorController {
  readonly #engine: Engine;
  readonly #metrics: Metrics | null;

  constructor(engine: Engine, metrics: Metrics | null) {
    this.#engine = engine;
    this.#metrics = metrics;
  }

  onWorkflowStart(message: DeliveredMessage): Promise<void> {
    return this.#handle(message);
  }

  onStepEvent(message: DeliveredMessage): Promise<void> {
    return this.#handle(message);
  }

  onOperatorCommand(message: DeliveredMessage): Promise<void> {
    return this.#handle(message);
  }

  onGovernanceDecision(message: DeliveredMessage): Promise<void> {
    return this.#handle(message);
  }

  async #handle(message: DeliveredMessage): Promise<void> {
    try {
      await this.#engine.handle(message);
      this.#metrics?.messagesHandled.inc({ topic: message.topic, outcome: 'ok' });
    } catch (error) {
      this.#metrics?.messagesHandled.inc({ topic: message.topic, outcome: 'dead_lettered' });
      throw error;
    }
  }
}
Reflect.decorate([Controller()], OrchestratorController);
Inject(ORCHESTRATOR_ENGINE)(OrchestratorController, undefined, 0);
Inject(ORCHESTRATOR_METRICS)(OrchestratorController, undefined, 1);
const HANDLERS: readonly [keyof OrchestratorController, string][] = [
  ['onWorkflowStart', Topics.workflowStarts],
  ['onStepEvent', Topics.stepEvents],
  ['onOperatorCommand', Topics.operatorCommands],
  ['onGovernanceDecision', Topics.governanceDecisions],
];
for (const [method, topic] of HANDLERS) {
  Reflect.decorate([EventPattern<string>(topic)], OrchestratorController.prototype, method, Object.getOwnPropertyDescriptor(OrchestratorController.prototype, method));
}
