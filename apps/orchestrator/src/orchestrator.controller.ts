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

  /** One handler for every topic the engine consumes: the engine parses each message by its topic. */
  async onRunMessage(message: DeliveredMessage): Promise<void> {
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
const ORCHESTRATOR_TOPICS = [
  Topics.workflowStarts,
  Topics.stepEvents,
  Topics.operatorCommands,
  Topics.governanceDecisions,
  Topics.externalEvents,
];
Reflect.decorate(
  [EventPattern<string[]>(ORCHESTRATOR_TOPICS)],
  OrchestratorController.prototype,
  'onRunMessage',
  Object.getOwnPropertyDescriptor(OrchestratorController.prototype, 'onRunMessage'),
);
