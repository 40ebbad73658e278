import type { GovernanceRequest } from '@orchestron/policy';
import type { Logger } from '@orchestron/telemetry';
import type { GovernanceDecisionCode, GovernanceOutcome } from '@orchestron/workflow-core';

/** What governance rules on: the policy lib's request, so the two can never drift apart. */
export type { GovernanceRequest };

export interface Clock {
  now(): number;
}

export interface Ids {
  newRunId(): string;
}

export interface GovernanceVerdict {
  readonly outcome: GovernanceOutcome;
  readonly policyId: string | null;
  readonly reason: string;
  /** `GOVERNANCE.UNEVALUABLE` on a deny no policy took: the request could not be evaluated at all. */
  readonly code?: GovernanceDecisionCode;
}

/** Rules on a side-effecting step before it runs. The in-process one wraps the Cedar policy engine. */
export type GovernanceCheck = (request: GovernanceRequest) => Promise<GovernanceVerdict>;

/** One logger shape for every service: telemetry's, whose JSON lines carry the trace id. */
export type { Logger };

export const systemClock: Clock = { now: () => Date.now() };

/** An error as a log field: `Name: message`. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** JSON lines on stderr, so stdout stays free for a CLI's output. */
export function jsonLogger(
  base: Record<string, unknown> = {},
  sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  const write = (level: string, message: string, fields?: Record<string, unknown>): void => {
    sink(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...base, ...fields }));
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
