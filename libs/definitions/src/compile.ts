import { Ajv } from 'ajv';
import { parseDuration } from './duration.ts';
import { DefinitionInvalidError } from './errors.ts';
import { unwrapExpression } from './expressions.ts';
import { definitionIssues } from './validate.ts';
import type {
  DeclaredSchedule,
  Budget,
  ChildWorkflow,
  CompiledCompensation,
  CompiledDefinition,
  CompiledStep,
  DefinitionIssue,
  JoinPolicy,
  RetryPolicy,
} from './types.ts';
import { quoteForMessage } from './quote.ts';

type RawRetry = {
  maxAttempts?: number;
  backoff?: 'exponential' | 'fixed';
  initialDelay?: string;
  maxDelay?: string;
  jitter?: 'full' | 'equal' | 'none';
  nonRetryable?: string[];
};
type RawCompensation = {
  worker?: string;
  action?: string;
  input?: unknown;
  retry?: RawRetry;
  timeout?: string;
  heartbeatTimeout?: string;
};
type RawStep = {
  type?: 'task' | 'approval' | 'event' | 'workflow';
  worker?: string;
  action?: string;
  needs?: string[];
  join?: string;
  when?: string;
  input?: unknown;
  inputSchema?: Record<string, unknown>;
  sideEffect?: boolean;
  compensate?: RawCompensation;
  retry?: RawRetry;
  timeout?: string;
  heartbeatTimeout?: string;
  governanceTimeout?: string;
  assignees?: string[];
  onTimeout?: 'escalate' | 'fail' | 'skip';
  escalateTo?: string[];
  escalateAfter?: string;
  event?: string;
  match?: string;
  workflow?: { id: string; version?: number };
  parentClosePolicy?: 'cancel' | 'abandon';
  locks?: { name: string; mode?: 'exclusive' | 'shared' }[];
};
type RawDefinition = {
  id: string;
  version: number;
  name?: string;
  description?: string;
  input?: { schema?: Record<string, unknown> };
  defaults?: { retry?: RawRetry; timeout?: string; heartbeatTimeout?: string; governanceTimeout?: string };
  onFailure?: 'compensate' | 'escalate' | 'fail';
  budget?: Budget;
  schedules?: Record<string, DeclaredSchedule>;
  steps: Record<string, RawStep>;
};

/** Without a timeout a dead worker would leave a run stuck forever (guarantee 4), so every task has one. */
export const DEFAULT_TIMEOUT_MS = 5 * 60_000;
/** Governance that has not ruled by then is treated as unavailable: an operator is told, the step keeps waiting. */
export const DEFAULT_GOVERNANCE_TIMEOUT_MS = 60_000;
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  backoff: 'exponential',
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  jitter: 'full',
  nonRetryable: [],
};

/** Validates (schema and semantics, all problems at once) and normalises a definition. */
export function compileDefinition(raw: unknown): CompiledDefinition {
  const issues = definitionIssues(raw);
  if (issues.length > 0) throw new DefinitionInvalidError(issues, describe(raw));
  const def = raw as RawDefinition;
  const baseRetry = mergeRetry(DEFAULT_RETRY, def.defaults?.retry);
  const baseTimeout = duration(def.defaults?.timeout) ?? DEFAULT_TIMEOUT_MS;
  const baseHeartbeat = duration(def.defaults?.heartbeatTimeout);
  const baseGovernance = duration(def.defaults?.governanceTimeout) ?? DEFAULT_GOVERNANCE_TIMEOUT_MS;
  const steps: Record<string, CompiledStep> = {};
  for (const [id, step] of Object.entries(def.steps)) {
    const type = step.type ?? 'task';
    const retry = mergeRetry(baseRetry, step.retry);
    const gate = type !== 'task';
    const timeoutMs = gate ? duration(step.timeout) : (duration(step.timeout) ?? baseTimeout);
    steps[id] = {
      id,
      type,
      worker: step.worker ?? null,
      action: step.action ?? null,
      needs: step.needs ?? [],
      join: parseJoin(step.join),
      when: typeof step.when === 'string' ? unwrapExpression(step.when) : null,
      input: step.input ?? null,
      ...(step.inputSchema ? { inputSchema: step.inputSchema } : {}),
      sideEffect: step.sideEffect ?? false,
      compensate: step.compensate ? compensation(step, step.compensate, baseRetry, baseTimeout, baseHeartbeat) : null,
      retry,
      timeoutMs,
      heartbeatTimeoutMs: gate ? null : (duration(step.heartbeatTimeout) ?? baseHeartbeat),
      governanceTimeoutMs: gate ? null : (duration(step.governanceTimeout) ?? baseGovernance),
      assignees: step.assignees ?? [],
      onTimeout: step.onTimeout ?? (type === 'approval' ? 'escalate' : 'fail'),
      ...escalation(step, timeoutMs),
      ...(type === 'event' ? { wait: { event: step.event ?? '', match: unwrapExpression(step.match ?? '') } } : {}),
      ...(type === 'workflow' ? { child: childOf(step) } : {}),
      ...(step.locks !== undefined
        ? { locks: step.locks.map((l) => ({ name: l.name, mode: l.mode ?? 'exclusive' })) }
        : {}),
    };
  }
  return {
    id: def.id,
    version: def.version,
    name: def.name ?? null,
    description: def.description ?? null,
    inputSchema: def.input?.schema ?? null,
    onFailure: def.onFailure ?? 'compensate',
    steps,
    order: topologicalOrder(steps),
    ...(def.budget !== undefined ? { budget: def.budget } : {}),
    ...(def.schedules !== undefined ? { schedules: def.schedules } : {}),
  };
}

const inputValidators = new Map<string, ReturnType<Ajv['compile']>>();
const inputAjv = new Ajv({ allErrors: true, strict: false });

/** Problems with a run's input against the definition's `input.schema`; empty when it fits. */
export function runInputIssues(definition: CompiledDefinition, input: unknown): DefinitionIssue[] {
  if (!definition.inputSchema) return [];
  return schemaIssues(`${definition.id}@${definition.version}`, definition.inputSchema, input, '/input');
}

/** Problems with an operator's edited input for a step against the step's `inputSchema`; empty when it fits or has none. */
export function stepInputIssues(definition: CompiledDefinition, stepId: string, input: unknown): DefinitionIssue[] {
  const schema = definition.steps[stepId]?.inputSchema;
  if (!schema) return [];
  return schemaIssues(`${definition.id}@${definition.version}/${stepId}`, schema, input, '/input');
}

function schemaIssues(key: string, schema: object, input: unknown, at: string): DefinitionIssue[] {
  let validate = inputValidators.get(key);
  if (!validate) {
    try {
      validate = inputAjv.compile(schema);
    } catch (error) {
      return [{ path: at, message: `the schema does not compile: ${(error as Error).message}` }];
    }
    inputValidators.set(key, validate);
  }
  if (validate(input)) return [];
  return (validate.errors ?? []).map((e) => ({
    path: `${at}${e.instancePath}${e.keyword === 'required' ? `/${String(e.params.missingProperty)}` : ''}`,
    message:
      e.keyword === 'required'
        ? `missing required field "${String(e.params.missingProperty)}"`
        : (e.message ?? e.keyword),
  }));
}

function compensation(
  step: RawStep,
  raw: RawCompensation,
  baseRetry: RetryPolicy,
  baseTimeout: number,
  baseHeartbeat: number | null,
): CompiledCompensation {
  return {
    worker: raw.worker ?? step.worker ?? '',
    action: raw.action ?? null,
    input: raw.input ?? null,
    retry: mergeRetry(baseRetry, raw.retry),
    timeoutMs: duration(raw.timeout) ?? baseTimeout,
    heartbeatTimeoutMs: duration(raw.heartbeatTimeout) ?? baseHeartbeat,
  };
}

/** Validation made sure an approval that escalates has a timeout, which escalateAfter defaults to. */
function escalation(step: RawStep, timeoutMs: number | null): Pick<CompiledStep, 'escalateTo' | 'escalateAfterMs'> {
  if (step.escalateTo === undefined) return {};
  return { escalateTo: step.escalateTo, escalateAfterMs: duration(step.escalateAfter) ?? timeoutMs ?? 0 };
}

function childOf(step: RawStep): ChildWorkflow {
  return {
    definitionId: step.workflow?.id ?? '',
    version: step.workflow?.version ?? null,
    parentClosePolicy: step.parentClosePolicy ?? 'cancel',
  };
}

function mergeRetry(base: RetryPolicy, raw: RawRetry | undefined): RetryPolicy {
  if (!raw) return base;
  return {
    maxAttempts: raw.maxAttempts ?? base.maxAttempts,
    backoff: raw.backoff ?? base.backoff,
    initialDelayMs: duration(raw.initialDelay) ?? base.initialDelayMs,
    maxDelayMs: duration(raw.maxDelay) ?? base.maxDelayMs,
    jitter: raw.jitter ?? base.jitter,
    nonRetryable: raw.nonRetryable ?? base.nonRetryable,
  };
}

function parseJoin(text: string | undefined): JoinPolicy {
  const quorum = text ? /^quorum\((\d+)\)$/.exec(text) : null;
  if (quorum) return { kind: 'quorum', n: Number(quorum[1]) };
  switch (text) {
    case 'any_success':
    case 'majority':
    case 'all_done':
      return { kind: text };
    default:
      return { kind: 'all_success' };
  }
}

function topologicalOrder(steps: Record<string, CompiledStep>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  const ids = Object.keys(steps);
  while (order.length < ids.length) {
    const next = ids.find((id) => !placed.has(id) && (steps[id]?.needs ?? []).every((n) => placed.has(n)));
    if (next === undefined) break; // unreachable: cycles are rejected before this
    order.push(next);
    placed.add(next);
  }
  return order;
}

function duration(text: string | undefined): number | null {
  return typeof text === 'string' ? parseDuration(text) : null;
}

function describe(raw: unknown): string {
  const def = raw as { id?: unknown; version?: unknown } | null;
  return def && typeof def === 'object' && typeof def.id === 'string'
    ? `definition ${quoteForMessage(def.id)}${typeof def.version === 'number' ? ` v${def.version}` : ''}`
    : 'definition';
}
