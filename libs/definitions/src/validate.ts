import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { definitionSchema } from './schema.ts';
import { parseDuration } from './duration.ts';
import {
  checkExpression,
  ExpressionError,
  referencedSteps,
  templateExpressions,
  unwrapExpression,
} from './expressions.ts';
import { IDENTIFIER_RULE } from './identifier.ts';
import { QUOTE_MAX_CHARS, quoteForMessage } from './quote.ts';
import type { DefinitionIssue } from './types.ts';

// verbose: the messages quote the offending value (error.data), which ajv keeps only in verbose mode.
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validateShape = ajv.compile(definitionSchema);
const DURATION_PATTERN = definitionSchema.properties.defaults.properties.timeout.pattern;

type RawStep = {
  type?: string;
  worker?: string;
  needs?: string[];
  join?: string;
  when?: string;
  input?: unknown;
  compensate?: { worker?: string; input?: unknown; retry?: { initialDelay?: string; maxDelay?: string } };
  retry?: { initialDelay?: string; maxDelay?: string };
  timeout?: string;
  heartbeatTimeout?: string;
  governanceTimeout?: string;
  sideEffect?: boolean;
};
type Durations = { timeout?: string; heartbeatTimeout?: string; governanceTimeout?: string };
type RawDefinition = {
  steps?: Record<string, RawStep>;
  defaults?: Durations & { retry?: { initialDelay?: string; maxDelay?: string } };
};

/** Every problem with a definition, each with a path and a reason; empty when it is acceptable. */
export function definitionIssues(raw: unknown): DefinitionIssue[] {
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
  const cycles = findCycles(steps);
  for (const cycle of cycles)
    issues.push({ path: `/steps/${cycle[0]}/needs`, message: `dependency cycle: ${cycle.map(bare).join(' → ')}` });
  if (cycles.length === 0) checkReferences(steps, ids, issues);
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
  if (isApproval && step.worker !== undefined)
    issues.push({ path: `${at}/worker`, message: 'an approval step is a human gate and takes no worker' });
  if (!isApproval && step.worker === undefined)
    issues.push({ path: `${at}/worker`, message: 'a task step needs a worker' });
  const quorum = typeof step.join === 'string' ? /^quorum\((\d+)\)$/.exec(step.join) : null;
  if (quorum && Number(quorum[1]) > needs.length) {
    issues.push({
      path: `${at}/join`,
      message: `quorum(${quorum[1]}) needs ${quorum[1]} successes but the step has only ${needs.length} need${needs.length === 1 ? '' : 's'}`,
    });
  }
  if (step.compensate !== undefined) {
    if (isApproval)
      issues.push({
        path: `${at}/compensate`,
        message: 'compensation points at nothing: an approval step has no effect to undo',
      });
    else if (
      step.compensate !== null &&
      typeof step.compensate === 'object' &&
      step.compensate.worker === undefined &&
      step.worker === undefined
    ) {
      issues.push({ path: `${at}/compensate/worker`, message: 'compensation points at nothing: give it a worker' });
    }
    checkDelays(step.compensate?.retry, `${at}/compensate/retry`, issues);
  }
  checkDelays(step.retry, `${at}/retry`, issues);
  checkPositive(step, at, issues);
  // A deadline that can never apply is a mistake in the definition, not something to ignore.
  if (step.governanceTimeout !== undefined && isApproval)
    issues.push({
      path: `${at}/governanceTimeout`,
      message: 'an approval step is not checked by governance, so it has no governanceTimeout',
    });
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

/** Expressions may read only steps that are upstream of them: anything else might not have run. */
function checkReferences(steps: Record<string, RawStep>, ids: Set<string>, issues: DefinitionIssue[]): void {
  const upstream = upstreamSets(steps);
  for (const [id, step] of Object.entries(steps)) {
    if (step === null || typeof step !== 'object') continue;
    const at = `/steps/${id}`;
    const sources: { path: string; source: string; self: boolean }[] = [];
    if (typeof step.when === 'string')
      sources.push({ path: `${at}/when`, source: unwrapExpression(step.when), self: false });
    for (const e of templateExpressions(step.input, `${at}/input`)) sources.push({ ...e, self: false });
    if (step.compensate && typeof step.compensate === 'object') {
      for (const e of templateExpressions(step.compensate.input, `${at}/compensate/input`))
        sources.push({ ...e, self: true });
    }
    for (const { path, source, self } of sources) {
      let refs: string[];
      try {
        checkExpression(source);
        refs = referencedSteps(source);
      } catch (error) {
        issues.push({ path, message: error instanceof ExpressionError ? error.message : String(error) });
        continue;
      }
      for (const ref of refs) {
        if (!ids.has(ref))
          issues.push({ path, message: `expression reads unknown step ${quoteForMessage(ref)}${suggest(ref, ids)}` });
        else if (!(self && ref === id) && !upstream.get(id)?.has(ref)) {
          issues.push({
            path,
            message: `expression reads step ${quoteForMessage(ref)}, which is not upstream of ${quoteForMessage(id)}: add it to needs`,
          });
        }
      }
    }
  }
}

function upstreamSets(steps: Record<string, RawStep>): Map<string, Set<string>> {
  const memo = new Map<string, Set<string>>();
  const of = (id: string): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const set = new Set<string>();
    memo.set(id, set);
    for (const need of needsOf(steps[id])) {
      if (!(need in steps)) continue;
      set.add(need);
      for (const up of of(need)) set.add(up);
    }
    return set;
  };
  for (const id of Object.keys(steps)) of(id);
  return memo;
}

/** Each elementary cycle reachable by DFS, reported once, as the path that closes it. */
function findCycles(steps: Record<string, RawStep>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const dfs = (id: string): void => {
    state.set(id, 'open');
    stack.push(id);
    for (const need of needsOf(steps[id])) {
      if (!(need in steps) || need === id) continue;
      if (state.get(need) === 'open') {
        const cycle = [...stack.slice(stack.indexOf(need)), need];
        const key = [...cycle.slice(0, -1)].sort().join(',');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle.reverse());
        }
      } else if (!state.has(need)) dfs(need);
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of Object.keys(steps)) if (!state.has(id)) dfs(id);
  return cycles;
}

function needsOf(step: RawStep | undefined): string[] {
  return step && Array.isArray(step.needs) ? step.needs.filter((n): n is string => typeof n === 'string') : [];
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

function suggest(name: string, ids: Set<string>): string {
  const close = [...ids].find((id) => id.startsWith(name.slice(0, 3)) || name.startsWith(id.slice(0, 3)));
  return close ? ` (did you mean ${quoteForMessage(close)}?)` : '';
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
