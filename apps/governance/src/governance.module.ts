import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { MessageBus } from '@orchestron/bus';
import type { Logger } from '@orchestron/runtime';
import type { Metrics } from '@orchestron/telemetry';
import { GovernanceController } from './governance.controller.ts';
import { GovernanceService } from './governance.service.ts';
import type { GovernanceSettings, PolicyProvider } from './governance.service.ts';
import {
  GOVERNANCE_BUS,
  GOVERNANCE_LOGGER,
  GOVERNANCE_METRICS,
  GOVERNANCE_POLICIES,
  GOVERNANCE_SETTINGS,
} from './governance.tokens.ts';

export interface GovernanceModuleDependencies {
  readonly bus: MessageBus;
  readonly policies: PolicyProvider;
  readonly settings: GovernanceSettings;
  readonly logger: Logger;
  /** Decisions are counted here by outcome and policy. */
  readonly metrics?: Metrics | null;
}

export class GovernanceModule {
  static with(dependencies: GovernanceModuleDependencies): DynamicModule {
    return {
      module: GovernanceModule,
      controllers: [GovernanceController],
      providers: [
        { provide: GOVERNANCE_BUS, useValue: dependencies.bus },
        { provide: GOVERNANCE_POLICIES, useValue: dependencies.policies },
        { provide: GOVERNANCE_SETTINGS, useValue: dependencies.settings },
        { provide: GOVERNANCE_LOGGER, useValue: dependencies.logger },
        { provide: GOVERNANCE_METRICS, useValue: dependencies.metrics ?? null },
        GovernanceService,
      ],
      exports: [GovernanceService],
    };
  }
}
Module({})(GovernanceModule);
