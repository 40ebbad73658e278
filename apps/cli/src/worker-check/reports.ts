import { stepEventSchema } from '@orchestron/bus';
import type { StepEventMessage } from '@orchestron/bus';
import { schemaValidator } from '@orchestron/definitions';
import { CHECK_STEP, phaseOf, traceIdOf } from './protocol.ts';
import type { Report, Sent } from './protocol.ts';

/*
 * What every report of a scenario must be, whatever the scenario: the checks of docs/asyncapi.yaml that hold for
 * each message a worker sends. Pure: the kit's scenarios collect the reports, these functions judge them.
 */

/** What the kit saw of one scenario's run. */
export interface Observed {
  readonly sent: readonly Sent[];
  readonly reports: readonly Report[];
  /** The partition of the step-events topic the run id hashes to (murmur2, as the contract says). */
  readonly partition: number;
}

// The schema the orchestrator validates reports with, and that test/docs/asyncapi.spec.ts holds equal to the document's.
const validate = schemaValidator(stepEventSchema);

/** The report as a StepEvent, or undefined when it is not one. */
export function eventOf(report: Report): StepEventMessage | undefined {
  return validate(report.value) ? (report.value as StepEventMessage) : undefined;
}

/** Everything wrong with each report that no scenario needs to know about to say so. */
export function malformed(observed: Observed): string[] {
  const runId = observed.sent[0]?.command.runId;
  const violations = observed.reports.flatMap((report, index) => {
    const n = `report ${index + 1}`;
    if (!validate(report.value)) return [`${n} is not a valid StepEvent (${schemaProblems()}): ${show(report.value)}`];
    const event = report.value as StepEventMessage;
    const problems: string[] = [];
    if (report.key !== runId) problems.push(`${n} is keyed ${show(report.key)}, not by its run id`);
    if (report.partition !== observed.partition)
      problems.push(
        `${n} is on partition ${report.partition}, not ${observed.partition} (murmur2 of the run id, see "Keys and partitioning")`,
      );
    if (event.stepId !== CHECK_STEP) problems.push(`${n} names step ${show(event.stepId)}, not ${show(CHECK_STEP)}`);
    const sent = observed.sent.find((s) => s.command.attempt === event.attempt && phaseOf(s.command) === event.phase);
    if (sent === undefined)
      problems.push(`${n} is about ${event.phase} attempt ${event.attempt}, which was never sent`);
    else problems.push(...traceProblems(n, report, sent));
    return problems;
  });
  return [...new Set(violations)];
}

function traceProblems(n: string, report: Report, sent: Sent): string[] {
  const header = report.headers['traceparent'];
  if (header === undefined) return [`${n} has no traceparent header (echo the command's, see "Headers")`];
  const traceId = traceIdOf(header);
  if (traceId === undefined) return [`${n} has a traceparent that is not W3C Trace Context: ${show(header)}`];
  if (traceId !== traceIdOf(sent.traceparent))
    return [`${n} has a traceparent of another trace than its command's (the run's trace, see "Headers")`];
  return [];
}

function schemaProblems(): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('; ');
}

export function isOutcome(event: StepEventMessage): boolean {
  return event.type === 'step.completed' || event.type === 'step.failed';
}

/** The valid reports about one attempt of one phase, in the order read. */
export function eventsAbout(
  observed: Observed,
  phase: 'execute' | 'compensate',
  attempt: number,
): { readonly event: StepEventMessage; readonly at: number }[] {
  return observed.reports.flatMap((report) => {
    const event = eventOf(report);
    return event !== undefined && event.phase === phase && event.attempt === attempt && event.stepId === CHECK_STEP
      ? [{ event, at: report.at }]
      : [];
  });
}

export function outcomesAbout(
  observed: Observed,
  phase: 'execute' | 'compensate',
  attempt: number,
): StepEventMessage[] {
  return eventsAbout(observed, phase, attempt)
    .map((e) => e.event)
    .filter(isOutcome);
}

/** The id the worker-check action returned for one execution, when the outcome carries one. */
export function executionOf(event: StepEventMessage): string | undefined {
  if (event.type !== 'step.completed') return undefined;
  const output = event.output as { execution?: unknown } | null | undefined;
  return typeof output?.execution === 'string' && output.execution !== '' ? output.execution : undefined;
}

/** What is wrong with an outcome the action should have completed: its type, and the output the action promises. */
export function completedProblems(event: StepEventMessage, nonce: string): string[] {
  if (event.type === 'step.failed') {
    const { code, message } = event.error;
    const hint =
      code === 'WORKER.NO_HANDLER' ? ` (give the worker a handler for the action "worker-check", see --help)` : '';
    return [`reported step.failed ${code ?? 'STEP.FAILED'}: ${show(message)}${hint}`];
  }
  if (event.type !== 'step.completed') return [`expected step.completed, got ${event.type}`];
  const output = event.output as { nonce?: unknown; execution?: unknown } | null | undefined;
  const problems: string[] = [];
  if (output?.nonce !== nonce)
    problems.push(`output.nonce is ${show(output?.nonce)}, not the command's ${show(nonce)} (the action echoes it)`);
  if (executionOf(event) === undefined)
    problems.push(`output.execution is ${show(output?.execution)}, not a non-empty string (the action returns one)`);
  return problems;
}

/** A value in a message, short enough for one line whatever a worker sent. */
export function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
