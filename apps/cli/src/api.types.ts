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

/** The run shapes are the server's own view types: one definition for both ends of the wire. */
export type { RunSummary, RunView, SendEventResult, StepView } from '@orchestron/runtime';
/** GET /v1/locks: who holds each resource lock and who waits for it. */
export type { LockView } from '@orchestron/runtime';

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

export const OPERATOR_ACTIONS = [
  'approve',
  'reject',
  'pause',
  'resume',
  'retry',
  'skip',
  'compensate',
  'cancel',
  'redrive',
  'raise-budget',
] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

export interface ActionRequest {
  readonly stepId?: string;
  readonly reason?: string;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly budget?: {
    readonly tokens?: number;
    readonly cost?: { readonly amount: number; readonly currency: string };
  };
}

/** POST /v1/events: an event from outside for the event steps waiting for its name and key. */
export interface SendEventRequest {
  readonly name: string;
  readonly key: string;
  readonly id: string;
  readonly payload?: unknown;
  readonly tenant?: string;
}

export interface ForkRequest {
  readonly at: number;
  readonly input?: unknown;
  readonly reason?: string;
}

export interface StartRunRequest {
  readonly definition?: unknown;
  readonly definitionId?: string;
  readonly definitionVersion?: number;
  readonly input?: unknown;
  readonly idempotencyKey?: string;
}

/** An API key as /v1/keys shows it: never its secret or hash. */
export interface KeyView {
  readonly id: string;
  readonly role: string;
  readonly subject: string;
  readonly tenant: string;
  /** Absent from servers before keys had groups. */
  readonly groups?: readonly string[];
  readonly source: 'config' | 'api';
  readonly createdAt: string | null;
  readonly createdBy: string | null;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

export interface NewKeyRequest {
  readonly role: string;
  readonly subject: string;
  readonly tenant?: string;
  readonly groups?: readonly string[];
  readonly expiresAt?: string;
}
