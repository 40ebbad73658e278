/** GET /v1/audit/events, as the CLI sends and reads it (apps/server's audit-events.controller.ts). */
export interface AuditSearchQuery {
  readonly run?: string;
  readonly definition?: string;
  readonly actor?: string;
  readonly type?: string;
  readonly step?: string;
  readonly policy?: string;
  readonly since?: string;
  readonly until?: string;
  readonly tenant?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface AuditEventView {
  readonly position: number;
  readonly runId: string;
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly recordedAt: string;
  readonly id: string;
  readonly tenant: string;
  readonly definitionId: string;
  readonly actor: string | null;
  readonly stepId: string | null;
  readonly policyId: string | null;
}

export interface AuditEventsPage {
  readonly events: readonly AuditEventView[];
  readonly next_cursor: string | null;
}
