import type { CedarValueJson, Context, EntityJson, EntityUidJson } from '@cedar-policy/cedar-wasm/nodejs';
import { cedarString, toCedarRecord } from './cedar-value.ts';
import type { GovernanceRequest } from './governance.types.ts';

export const RUN_TYPE = 'Orchestron::Run';
export const STEP_TYPE = 'Orchestron::Step';
export const ACTION_TYPE = 'Orchestron::Action';
export const EXECUTE_ACTION_ID = 'execute';

/** The parts of a Cedar authorization call that depend on the request, not on the policies. */
export interface CedarRequest {
  readonly principal: EntityUidJson;
  readonly action: EntityUidJson;
  readonly resource: EntityUidJson;
  readonly context: Context;
  readonly entities: EntityJson[];
}

/**
 * Maps a governance request onto Cedar:
 * - principal `Orchestron::Run::"<runId>"` with `definitionId`, `definitionVersion`, `actor`;
 * - action `Orchestron::Action::"execute"`;
 * - resource `Orchestron::Step::"<definitionId>/<stepId>"` with `stepId`, `worker`, `action`, `definitionId`;
 * - context with the step and run inputs and the UTC time of day derived from `now`.
 *
 * Throws a RangeError when `now` is not a finite time: a policy comparing `context.hourUtc`
 * with a number would error, Cedar would skip it, and a time-window forbid would silently not apply.
 * Throws UnevaluableRequestError, naming the path, when a part of the request is something Cedar refuses to parse
 * (see `toCedarValue`).
 */
export function toCedarRequest(request: GovernanceRequest): CedarRequest {
  const principal = { type: RUN_TYPE, id: cedarString(request.runId, 'principal.id (runId)') };
  const resource = {
    type: STEP_TYPE,
    id: cedarString(`${request.definitionId}/${request.stepId}`, 'resource.id (definitionId/stepId)'),
  };
  const entities: EntityJson[] = [
    {
      uid: principal,
      attrs: toCedarRecord(
        { definitionId: request.definitionId, definitionVersion: request.definitionVersion, actor: request.actor },
        'principal',
      ),
      parents: [],
    },
    {
      uid: resource,
      attrs: toCedarRecord(
        { stepId: request.stepId, worker: request.worker, action: request.action, definitionId: request.definitionId },
        'resource',
      ),
      parents: [],
    },
  ];
  const context = toCedarRecord(
    {
      stepId: request.stepId,
      worker: request.worker,
      definitionId: request.definitionId,
      input: request.input,
      runInput: request.runInput,
      ...timeOfDayUtc(request.now),
    },
    'context',
  );
  return { principal, action: { type: ACTION_TYPE, id: EXECUTE_ACTION_ID }, resource, context, entities };
}

function timeOfDayUtc(now: number): Record<string, CedarValueJson | undefined> {
  const at = new Date(now);
  if (!Number.isFinite(at.getTime()))
    throw new RangeError(`governance request "now" is not a valid time: ${String(now)}`);
  const hourUtc = at.getUTCHours();
  return {
    hourUtc,
    weekdayUtc: at.getUTCDay(),
    minuteOfDayUtc: hourUtc * 60 + at.getUTCMinutes(),
  };
}

/**
 * Whether Cedar can take the request at all (no lone surrogate, nothing nested too deep, a `now` that is a time): a
 * request it cannot take is denied as GOVERNANCE.UNEVALUABLE, so a standing ruling must not allow it (ADR 40).
 */
export function isEvaluable(request: GovernanceRequest): boolean {
  try {
    toCedarRequest(request);
    return true;
  } catch {
    return false;
  }
}
