import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { Engine } from '@orchestron/runtime';
import type { Metrics } from '@orchestron/telemetry';
import { ORCHESTRATOR_ENGINE, ORCHESTRATOR_METRICS, OrchestratorController } from './orchestrator.controller.ts';

export class OrchestratorModule {
  static with(dependencies: { readonly engine: Engine; readonly metrics: Metrics | null }): DynamicModule {
    return {
      module: OrchestratorModule,
      controllers: [OrchestratorController],
      providers: [
        { provide: ORCHESTRATOR_ENGINE, useValue: dependencies.engine },
        { provide: ORCHESTRATOR_METRICS, useValue: dependencies.metrics },
      ],
    };
  }
}
Module({})(OrchestratorModule);
