/** The API's shapes the console reads (docs/api.md). */

export type Role = 'producer' | 'worker' | 'operator' | 'auditor' | 'admin';

export interface Key {
  readonly id: string;
  readonly role: Role;
  readonly tenant: string;
  readonly subject: string;
  readonly groups: readonly string[];
}

export const RUN_STATUSES = [
  'running',
  'paused',
  'needs_operator',
  'compensating',
  'completed',
  'failed',
  'compensated',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunSummary {
  readonly id: string;
  readonly tenant: string;
  readonly definitionId: string;
  readonly definitionVersion: number;
  readonly status: RunStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly attention: { code: string; message: string; stepId: string | null } | null;
  readonly waitingApproval: readonly string[];
}

/** What a run's or a step's attempts reported using: tokens, and cost per currency (docs/agents.md). */
export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cost: Readonly<Record<string, number>>;
}

export interface Budget {
  readonly tokens?: number;
  readonly cost?: { readonly amount: number; readonly currency: string };
}

export interface StepView {
  readonly id: string;
  readonly type: 'task' | 'approval' | 'event';
  readonly worker: string | null;
  readonly needs: readonly string[];
  readonly status: string;
  readonly attempt: number;
  readonly input: unknown;
  readonly output: unknown;
  readonly error: { code: string; message: string } | null;
  readonly governance: { decision?: string; policyIds?: string[]; reason?: string } | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly held: { reason: string; worker: string; since: string } | null;
  readonly assignees?: readonly string[];
  readonly usage?: Usage;
  /** Event steps: the event and key the step waits (or waited) for. */
  readonly waitsFor?: { event: string; key: string; since: string; timeoutAt: string | null } | null;
}

export interface RunView {
  readonly id: string;
  readonly definition: { id: string; version: number; name: string | null };
  readonly status: RunStatus;
  readonly input: unknown;
  readonly startedBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly attention: RunSummary['attention'];
  readonly steps: readonly StepView[];
  readonly usage?: Usage;
  readonly budget?: Budget;
}

export interface DefinitionStep {
  readonly id: string;
  readonly type: 'task' | 'approval' | 'event';
  readonly worker: string | null;
  readonly needs: readonly string[];
  readonly join: { readonly kind: string; readonly n?: number };
  readonly when: string | null;
  /** JSON Schema an operator's edited input must satisfy (retry, redrive). */
  readonly inputSchema?: Readonly<Record<string, unknown>>;
}

export interface Definition {
  readonly id: string;
  readonly version: number;
  readonly name: string | null;
  readonly description: string | null;
  readonly steps: Readonly<Record<string, DefinitionStep>>;
  readonly order: readonly string[];
}

export interface RecordedEvent {
  readonly revision: number;
  readonly position: number;
  readonly type: string;
  readonly data: Record<string, unknown> | null;
  readonly metadata: Record<string, unknown> | null;
  readonly recordedAt: string;
}

/** What GET /v1/events/stream sends for each run event. */
export interface StreamEvent {
  readonly position: number;
  readonly runId: string;
  readonly tenant: string;
  readonly type: string;
  readonly recordedAt: string;
}

/** The dead-letter and held-step views, as the server declares them (a type-only import: nothing of the server is bundled). */
export type { DeadLetterView, HeldStepView as HeldStep } from '@orchestron/server/views';
