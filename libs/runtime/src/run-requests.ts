import { quoteForMessage } from '@orchestron/definitions';
import { DomainError, isStarted } from '@orchestron/workflow-core';
import type { Command, RunData, RunState } from '@orchestron/workflow-core';
import type { RunCommand } from './run-service.ts';

/* How a request from outside becomes a command for a run, and what it answers. */

export function requireRun(runId: string, state: RunState): RunData {
  if (!isStarted(state))
    throw new DomainError('RUN.NOT_FOUND', `run ${quoteForMessage(runId)} does not exist`, { runId });
  return state;
}

export function withMetadata(command: RunCommand, now: number, actor: string | undefined): Command {
  return { ...command, metadata: { now, ...(actor !== undefined ? { actor } : {}) } } as Command;
}

/** Which API key asked, in the events it caused: its id, never its secret. */
export function keyMetadata(keyId: string | undefined): Record<string, string> {
  return keyId === undefined ? {} : { keyId };
}

export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new DomainError('COMMAND.INVALID', `${field} is required (or give an inline definition)`, { field });
  return value;
}
