import type { ErrorObject } from 'ajv';
import { definitionSchema } from './schema.ts';
import { parseDuration } from './duration.ts';
import { IDENTIFIER_RULE } from './identifier.ts';
import { checkJsonLimits, JsonLimitError, MAX_JSON_DEPTH } from './json-limits.ts';
import { QUOTE_MAX_CHARS, quoteForMessage } from './quote.ts';
import { findCycles } from './step-graph.ts';
import type { RawStep } from './step-graph.ts';
import { schemaValidator } from './schema-validators.ts';
import { checkEventFields } from './event-step-checks.ts';
import { checkWorkflowFields } from './workflow-step-checks.ts';
import { checkLockFields } from './lock-checks.ts';
import { checkSchedules } from './schedule-schema.ts';
import { checkExpressions, suggest } from './validate-expressions.ts';
import type { DefinitionIssue } from './types.ts';

// Verbose (SCHEMA_OPTIONS): the messages quote the offending value (error.data), which ajv keeps only in verbose mode.
const validateShape = schemaValidator(definitionSchema);
const DURATION_PATTERN = definitionSchema.properties.defaults.properties.timeout.pattern;

type Durations = { timeout?: string; heartbeatTimeout?: string; governanceTimeout?: string };
type RawDefinition = {
  steps?: Record<string, RawStep>;
  defaults?: Durations & { retry?: { initialDelay?: string; maxDelay?: string } };
};

/** Every problem with a definition, each with a path and a reason; empty when it is acceptable. */
export function definitionIssues(raw: unknown): DefinitionIssue[] {
  const tooDeep = depthIssue(raw);
  if (tooDeep) return [tooDeep];
  const issues: DefinitionIssue[] = [];
  if (!validateShape(raw)) issues.push(...(validateShape.errors ?? []).map(describeSchemaError));
  if (raw === null || typeof raw !== 'object') return issues;
  const def = raw as RawDefinition;
  const steps = def.steps !== null && typeof def.steps === 'object' ? def.steps : {};
  const ids = new Set(Object.keys(steps));

  checkDelays(def.defaults?.retry, '/defaults/retry', issues);
  if (def.defaults !== null && typeof def.defaults === 'object') checkPositive(def.defaults, '/defaults', issues);
  for (const [id, step] of Object.entries(steps)) {
    if (step === null || typeof step !== 'object') continue;
    checkStep(id, step, ids, issues);
  }
  checkSchedules((raw as { id?: unknown }).id, (raw as { schedules?: unknown }).schedules, issues);
  const cycles = findCycles(steps);
  for (const cycle of cycles)
    issues.push({ path: `/steps/${cycle[0]}/needs`, message: `dependency cycle: ${cycle.map(bare).join(' → ')}` });
  if (cycles.length === 0) checkExpressions(steps, ids, issues);
  return dedupe(issues).map(clipPath);
}

function checkStep(id: string, step: RawStep, ids: Set<string>, issues: DefinitionIssue[]): void {
  const at = `/steps/${id}`;
  const needs = Array.isArray(step.needs) ? step.needs : [];
  needs.forEach((need, i) => {
    if (need === id)
      issues.push({ path: `${at}/needs/${i}`, message: `step ${quoteForMessage(id)} cannot need itself` });
    else if (!ids.has(need))
      issues.push({ path: `${at}/needs/${i}`, message: `unknown step ${quoteForMessage(need)}${suggest(need, ids)}` });
  });
  const isApproval = step.type === 'approval';
  const isEvent = step.type === 'event';
  const isWorkflow = step.type === 'workflow';
  checkEventFields(step, at, issues);
  checkWorkflowFields(step, at, issues);
  checkLockFields(step, at, issues);
  if (isApproval && step.worker !== undefined)
    issues.push({ path: `${at}/worker`, message: 'an approval step is a human gate and takes no worker' });
  if (!isApproval && !isEvent && !isWorkflow && step.worker === undefined)
    issues.push({ path: `${at}/worker`, message: 'a task step needs a worker' });
  const quorum = typeof step.join === 'string' ? /^quorum\((\d+)\)$/.exec(step.join) : null;
  if (quorum && Number(quorum[1]) > needs.length) {
    issues.push({
      path: `${at}/join`,
      message: `quorum(${quorum[1]}) needs ${quorum[1]} successes but the step has only ${needs.length} need${needs.length === 1 ? '' : 's'}`,
    });
  }
  if (step.compensate !== undefined && !isEvent && !isWorkflow) checkCompensation(step, at, issues);
  checkDelays(step.retry, `${at}/retry`, issues);
  checkPositive(step, at, issues);
  // A deadline that can never apply is a mistake in the definition, not something to ignore.
  if (step.governanceTimeout !== undefined && isApproval)
    issues.push({
      path: `${at}/governanceTimeout`,
      message: 'an approval step is not checked by governance, so it has no governanceTimeout',
    });
  checkEscalation(step, at, issues);
}

/** A second level of approvers is reached only when the gate's own deadline passes. */
function checkEscalation(step: RawStep, at: string, issues: DefinitionIssue[]): void {
  if (step.escalateTo !== undefined && step.type !== 'approval' && step.type !== 'event')
    issues.push({
      path: `${at}/escalateTo`,
      message: 'only an approval step can escalate to other assignees: a task step has no gate',
    });
  else if (step.escalateTo !== undefined && step.timeout === undefined)
    issues.push({
      path: `${at}/escalateTo`,
      message: 'escalateTo needs a timeout: the gate escalates when its timeout passes',
    });
  if (step.escalateAfter === undefined) return;
  if (step.escalateTo === undefined)
    issues.push({
      path: `${at}/escalateAfter`,
      message: 'escalateAfter needs escalateTo: it is how long the escalated gate waits',
    });
  else if (typeof step.escalateAfter === 'string' && parseDuration(step.escalateAfter) === 0)
    issues.push({ path: `${at}/escalateAfter`, message: 'escalateAfter must be longer than 0' });
}

function checkCompensation(step: RawStep, at: string, issues: DefinitionIssue[]): void {
  const compensate = step.compensate;
  if (step.type === 'approval') {
    issues.push({
      path: `${at}/compensate`,
      message: 'compensation points at nothing: an approval step has no effect to undo',
    });
  } else if (compensate !== null && typeof compensate === 'object') {
    // `compensate: {}` would send the step's own worker a command that names no undo: say which.
    if (compensate.worker === undefined && compensate.action === undefined)
      issues.push({
        path: `${at}/compensate`,
        message: 'compensation needs an action: name it with "action" (and "worker" when another worker undoes it)',
      });
    else if (compensate.worker === undefined && step.worker === undefined)
      issues.push({ path: `${at}/compensate/worker`, message: 'compensation points at nothing: give it a worker' });
  }
  checkDelays(compensate?.retry, `${at}/compensate/retry`, issues);
}

/**
 * Every later check walks the definition recursively: one nested deeper than any JSON we take in is refused first,
 * by a walk with its own stack, whatever handed it over (the CLI's YAML, a caller in this process).
 */
function depthIssue(raw: unknown): DefinitionIssue | undefined {
  try {
    checkJsonLimits(raw, { maxDepth: MAX_JSON_DEPTH, subject: 'the definition' });
    return undefined;
  } catch (error) {
    if (error instanceof JsonLimitError) return { path: '', message: error.message };
    throw error;
  }
}

function checkPositive(durations: Durations, at: string, issues: DefinitionIssue[]): void {
  for (const field of ['timeout', 'heartbeatTimeout', 'governanceTimeout'] as const) {
    const text = durations[field];
    if (typeof text === 'string' && parseDuration(text) === 0)
      issues.push({ path: `${at}/${field}`, message: `${field} must be longer than 0` });
  }
}

function checkDelays(
  retry: { initialDelay?: string; maxDelay?: string } | undefined,
  at: string,
  issues: DefinitionIssue[],
): void {
  if (!retry || typeof retry !== 'object') return;
  const initial = typeof retry.initialDelay === 'string' ? parseDuration(retry.initialDelay) : null;
  const max = typeof retry.maxDelay === 'string' ? parseDuration(retry.maxDelay) : null;
  if (initial !== null && max !== null && max < initial)
    issues.push({
      path: `${at}/maxDelay`,
      message: `maxDelay (${bare(retry.maxDelay ?? '')}) is shorter than initialDelay (${bare(retry.initialDelay ?? '')})`,
    });
}

function describeSchemaError(error: ErrorObject): DefinitionIssue {
  const path = error.instancePath;
  switch (error.keyword) {
    case 'additionalProperties':
      return {
        path: `${path}/${String(error.params.additionalProperty)}`,
        message: `unknown field ${quoteForMessage(String(error.params.additionalProperty))}`,
      };
    case 'required':
      return {
        path: `${path}/${String(error.params.missingProperty)}`,
        message: `missing required field "${String(error.params.missingProperty)}"`,
      };
    case 'enum':
      return {
        path,
        message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'pattern':
      if (error.params.pattern === DURATION_PATTERN)
        return {
          path,
          message: `bad duration ${quoteForMessage(String(error.data))}: write e.g. 500ms, 30s, 5m, 48h or 1h30m`,
        };
      if (path.endsWith('/join'))
        return {
          path,
          message: `unknown join policy ${quoteForMessage(String(error.data))}: use all_success, any_success, majority, quorum(N) or all_done`,
        };
      return {
        path,
        message: `${quoteForMessage(String(error.data))} is not a valid identifier: use ${IDENTIFIER_RULE}`,
      };
    case 'propertyNames':
      return {
        path: `${path}/${String(error.params.propertyName)}`,
        message: `step id ${quoteForMessage(String(error.params.propertyName))} is not valid: use ${IDENTIFIER_RULE}`,
      };
    default:
      return { path, message: error.message ?? error.keyword };
  }
}

/** A value the message shows unquoted while it is short (a step id in a cycle, a duration), quoted and cut when long. */
function bare(value: string): string {
  return value.length > QUOTE_MAX_CHARS ? quoteForMessage(value) : value;
}

/** A path names the client's own keys (step ids, unknown fields): a long one is quoted and cut like any echoed value. */
function clipPath(issue: DefinitionIssue): DefinitionIssue {
  if (issue.path.length <= QUOTE_MAX_CHARS) return issue;
  return { ...issue, path: issue.path.split('/').map(bare).join('/') };
}

function dedupe(issues: DefinitionIssue[]): DefinitionIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (
      seen.has(key) ||
      (i.message.startsWith('must match pattern') && issues.some((o) => o.path === i.path && o !== i))
    )
      return false;
    seen.add(key);
    return true;
  });
}
