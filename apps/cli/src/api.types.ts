import type { CompensationStatus, RunStatus, StepStatus } from '@orchestron/workflow-core';

/** The server's wire shapes, as the CLI reads them. They are views, not the decider's state. */

export type { CompensationStatus, RunStatus, StepStatus };

export interface Attention {
  readonly code: string;
  readonly message: string;
  readonly stepId: string | null;
}

export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly retryable?: boolean;
}

export interface StepView {
  readonly id: string;
  readonly type: 'task' | 'approval';
  readonly worker: string | null;
  readonly needs: readonly string[];
  readonly status: StepStatus;
  readonly attempt: number;
  readonly output: unknown;
  readonly error: WireError | null;
  readonly governance: { readonly outcome: string; readonly policyId: string | null; readonly reason: string } | null;
  readonly skipKind: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly compensation: { readonly status: CompensationStatus; readonly attempt: number; readonly error: WireError | null } | null;
}

export interface RunView {
  readonly id: string;
  readonly definition: { readonly id: string; readonly version: number; readonly name: string | null };
  readonly status: RunStatus;
  readonly input: unknown;
  readonly startedBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly attention: Attention | null;
  readonly failure: { readonly stepId: string | null; readonly error: WireError } | null;
  readonly steps: readonly StepView[];
  readonly version: number;
}

export interface RunSummary {
  readonly id: string;
  readonly definitionId: string;
  readonly definitionVersion: number;
  readonly status: RunStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly attention: Attention | null;
}

export interface EventView {
  readonly revision: number;
  readonly position: number | string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly recordedAt: string | number;
}

export interface NextAction {
  readonly action: string;
  readonly method: string;
  readonly endpoint: string;
  readonly description: string;
}

export interface AgentContract {
  readonly retryable: boolean;
  readonly next_actions: readonly NextAction[];
}

export interface Issue {
  readonly path: string;
  readonly message: string;
}

export const OPERATOR_ACTIONS = ['approve', 'reject', 'pause', 'resume', 'retry', 'skip', 'compensate', 'cancel'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

export interface ActionRequest {
  readonly stepId?: string;
  readonly reason?: string;
  readonly input?: unknown;
  readonly output?: unknown;
}

export interface StartRunRequest {
  readonly definition?: unknown;
  readonly definitionId?: string;
  readonly definitionVersion?: number;
  readonly input?: unknown;
  readonly idempotencyKey?: string;
}
