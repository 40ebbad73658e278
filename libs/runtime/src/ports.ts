import type { GovernanceRequest } from '@orchestron/policy';
import type { GovernanceOutcome } from '@orchestron/workflow-core';

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
}

/** Rules on a side-effecting step before it runs. The in-process one wraps the Cedar policy engine. */
export type GovernanceCheck = (request: GovernanceRequest) => Promise<GovernanceVerdict>;

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const systemClock: Clock = { now: () => Date.now() };

/** JSON lines on stderr, so stdout stays free for a CLI's output. */
export function jsonLogger(base: Record<string, unknown> = {}, sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Logger {
  const write = (level: string, message: string, fields?: Record<string, unknown>): void => {
    sink(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...base, ...fields }));
  };
  return { info: (m, f) => write('info', m, f), warn: (m, f) => write('warn', m, f), error: (m, f) => write('error', m, f) };
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
