import { typeProblem } from './cel-checker.ts';
import { guardsOf, readsOf } from './expression-reads.ts';
import type { ExpressionReads, StepRead } from './expression-reads.ts';
import {
  checkExpression,
  expressionAst,
  ExpressionError,
  templateExpressions,
  unwrapExpression,
} from './expressions.ts';
import { quoteForMessage } from './quote.ts';
import { needsOf, settledSets, upstreamSets } from './step-graph.ts';
import type { RawStep } from './step-graph.ts';
import type { DefinitionIssue } from './types.ts';

/**
 * Every expression of a definition, checked where it stands: it parses, type-checks against what it sees at run
 * time (cel-checker.ts), reads only steps upstream of it, and reads the output of a step that may not have
 * succeeded by then only behind a guard (expression-reads.ts). The graph must have no cycles.
 */
export function checkExpressions(steps: Record<string, RawStep>, ids: Set<string>, issues: DefinitionIssue[]): void {
  const upstream = upstreamSets(steps);
  const settled = settledSets(steps);
  for (const [id, step] of Object.entries(steps)) {
    if (step === null || typeof step !== 'object') continue;
    const scope: Scope = {
      id,
      step,
      steps,
      ids,
      upstream: upstream.get(id) ?? new Set(),
      settled: settled.get(id) ?? new Set(),
    };
    for (const site of sitesOf(id, step)) checkSite(site, scope, issues);
  }
}

/** What the expressions of one step may read. */
interface Scope {
  readonly id: string;
  readonly step: RawStep;
  readonly steps: Record<string, RawStep>;
  readonly ids: Set<string>;
  readonly upstream: ReadonlySet<string>;
  /** Steps certain to have completed when the step's join is met (step-graph.ts). */
  readonly settled: ReadonlySet<string>;
}

/** One expression, where it stands. */
interface Site {
  readonly path: string;
  readonly source: string;
  /** A compensation runs after its own step completed: it may read that step's output. */
  readonly compensation: boolean;
  /** Steps proved completed before it runs: the step's input is rendered only once its `when` held. */
  readonly guards: ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

function sitesOf(id: string, step: RawStep): Site[] {
  const at = `/steps/${id}`;
  const sites: Site[] = [];
  let whenGuards = NONE;
  if (typeof step.when === 'string') {
    const source = unwrapExpression(step.when);
    sites.push({ path: `${at}/when`, source, compensation: false, guards: NONE });
    whenGuards = guardsOfSource(source);
  }
  if (typeof step.match === 'string')
    sites.push({ path: `${at}/match`, source: unwrapExpression(step.match), compensation: false, guards: whenGuards });
  for (const e of templateExpressions(step.input, `${at}/input`))
    sites.push({ ...e, compensation: false, guards: whenGuards });
  // Rendered when an attempt is sent, and again for its compensation: only what is settled by then.
  if (Array.isArray(step.locks))
    step.locks.forEach((lock: unknown, i) => {
      const name = lock !== null && typeof lock === 'object' ? (lock as { name?: unknown }).name : undefined;
      for (const e of templateExpressions(name, `${at}/locks/${i}/name`))
        sites.push({ ...e, compensation: false, guards: whenGuards });
    });
  if (step.compensate && typeof step.compensate === 'object') {
    for (const e of templateExpressions(step.compensate.input, `${at}/compensate/input`))
      sites.push({ ...e, compensation: true, guards: NONE });
  }
  return sites;
}

function checkSite(site: Site, scope: Scope, issues: DefinitionIssue[]): void {
  let reads: ExpressionReads;
  try {
    checkExpression(site.source);
    reads = readsOf(expressionAst(site.source));
  } catch (error) {
    issues.push({ path: site.path, message: error instanceof ExpressionError ? error.message : String(error) });
    return;
  }
  const quoted = quoteForMessage(site.source);
  for (const problem of reads.problems) issues.push({ path: site.path, message: `expression ${quoted} ${problem}` });
  for (const read of reads.reads) {
    const problem = readProblem(read, site, scope);
    if (problem !== undefined) issues.push({ path: site.path, message: problem });
  }
  const typeError = typeProblem(site.source);
  // An unknown function is already named; the type checker's "no matching overload" would only repeat it.
  if (typeError && !(reads.unknownFunction && typeError.code === 'no_matching_overload'))
    issues.push({ path: site.path, message: `expression ${quoted} ${typeError.message}` });
}

function readProblem(read: StepRead, site: Site, scope: Scope): string | undefined {
  const { step } = read;
  if (!scope.ids.has(step)) return `expression reads unknown step ${quoteForMessage(step)}${suggest(step, scope.ids)}`;
  if (site.compensation && step === scope.id) return undefined;
  if (!scope.upstream.has(step))
    return `expression reads step ${quoteForMessage(step)}, which is not upstream of ${quoteForMessage(scope.id)}: add it to needs`;
  if (!read.output || read.guarded || site.guards.has(step) || scope.settled.has(step)) return undefined;
  const entry = `steps[${quoteForMessage(step)}]`;
  // has() takes only field selections: steps.a.output.f, never steps['a-b'].output.f.
  const hasForm = CEL_IDENTIFIER.test(step) ? `, or has(steps.${step}.output.<field>)` : '';
  return (
    `expression reads ${entry}.output, but ${whyUnsettled(step, scope)}: guard the read, ` +
    `as ${entry}.status == 'completed' ? ${entry}.output… : null${hasForm}`
  );
}

const CEL_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function whyUnsettled(step: string, scope: Scope): string {
  const join = typeof scope.step.join === 'string' ? scope.step.join : 'all_success';
  if (join !== 'all_success' && needsOf(scope.step).includes(step))
    return `${quoteForMessage(scope.id)} starts when its join ${join} is met, which does not wait for ${quoteForMessage(step)} to succeed`;
  if (scope.steps[step]?.when !== undefined)
    return `${quoteForMessage(step)} has a when, so it may be skipped and have no output`;
  return `${quoteForMessage(scope.id)} reaches ${quoteForMessage(step)} only through a join that does not wait for it to succeed`;
}

/** The guards of a `when`; one that does not parse guards nothing (its own site reports it). */
function guardsOfSource(source: string): ReadonlySet<string> {
  try {
    return guardsOf(expressionAst(source));
  } catch {
    return NONE;
  }
}

export function suggest(name: string, ids: Set<string>): string {
  const close = [...ids].find((id) => id.startsWith(name.slice(0, 3)) || name.startsWith(id.slice(0, 3)));
  return close ? ` (did you mean ${quoteForMessage(close)}?)` : '';
}
