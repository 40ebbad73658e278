import { policySetTextToParts, policyToJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { DetailedError } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicySource } from './governance.types.ts';
import type { PolicyProblem } from './policy.error.ts';

/** The only value `@outcome` may take: a forbid that asks a human instead of refusing. */
export const REQUIRE_APPROVAL = 'require_approval';

/** One Cedar policy with the Orchestron annotations already read. */
export interface LoadedPolicy {
  readonly id: string;
  readonly source: string;
  readonly line: number | undefined;
  readonly effect: 'permit' | 'forbid';
  /** A forbid annotated `@outcome("require_approval")`. */
  readonly requiresApproval: boolean;
  readonly reason: string | undefined;
  /** The policy's own Cedar text, as written in the source. */
  readonly text: string;
}

export interface LoadResult {
  readonly policies: readonly LoadedPolicy[];
  readonly problems: readonly PolicyProblem[];
}

/** Splits every source into policies, assigns ids and reads annotations, collecting every problem rather than stopping at the first. */
export function loadPolicies(sources: readonly PolicySource[]): LoadResult {
  const policies: LoadedPolicy[] = [];
  const problems: PolicyProblem[] = [];
  for (const source of sources) {
    const loaded = loadSource(source);
    policies.push(...loaded.policies);
    problems.push(...loaded.problems);
  }
  problems.push(...duplicateIdProblems(policies));
  return { policies, problems };
}

function loadSource(source: PolicySource): LoadResult {
  const parts = policySetTextToParts(source.text);
  if (parts.type === 'failure') {
    return { policies: [], problems: parts.errors.flatMap(flattenError).map((e) => problemAt(source, e)) };
  }
  const problems: PolicyProblem[] = parts.policy_templates.map((template) => ({
    source: source.name,
    message: 'policy templates (?principal / ?resource slots) are not supported',
    line: lineOfText(source.text, template, 0),
  }));
  const policies: LoadedPolicy[] = [];
  let cursor = 0;
  for (const [index, text] of inSourceOrder(parts.policies).entries()) {
    const position = source.text.indexOf(text, cursor);
    if (position >= 0) cursor = position + text.length;
    const line = position >= 0 ? lineAt(source.text, position) : undefined;
    const read = readPolicy(source.name, index, text, line);
    if ('policy' in read) policies.push(read.policy);
    problems.push(...read.problems);
  }
  return { policies, problems };
}

/**
 * `policySetTextToParts` returns policies sorted by Cedar's generated ids (`policy0`,
 * `policy1`, `policy10`, `policy2`…), which is not the order they were written in. Default
 * ids (`<source>#<index>`) and "first determining policy" both depend on source order, so the
 * string sort is undone here.
 */
function inSourceOrder(sortedByCedarId: readonly string[]): readonly string[] {
  const cedarIds = sortedByCedarId.map((_, index) => `policy${index}`);
  const sortedIds = [...cedarIds].sort();
  return cedarIds.map((id) => sortedByCedarId[sortedIds.indexOf(id)] ?? '');
}

type ReadPolicy =
  | { readonly policy: LoadedPolicy; readonly problems: readonly PolicyProblem[] }
  | { readonly problems: readonly PolicyProblem[] };

function readPolicy(sourceName: string, index: number, text: string, line: number | undefined): ReadPolicy {
  const at = (message: string): PolicyProblem => ({ source: sourceName, message, line });
  const parsed = policyToJson(text);
  if (parsed.type === 'failure') return { problems: parsed.errors.flatMap(flattenError).map((e) => at(e.message)) };
  // Cedar reports a bare `@name` (no value) as null, which its types do not admit.
  const annotations: Readonly<Record<string, string | null>> = parsed.json.annotations ?? {};
  const problems: PolicyProblem[] = [];
  const explicitId = annotations['id'];
  if (explicitId !== undefined && !explicitId) problems.push(at('@id needs a non-empty value, as in @id("my-policy")'));
  const id = explicitId || `${sourceName}#${index}`;
  const outcome = annotations['outcome'];
  if (outcome !== undefined && outcome !== REQUIRE_APPROVAL) {
    problems.push(
      at(
        `policy "${id}": @outcome(${JSON.stringify(outcome ?? '')}) is not valid; the only outcome is "${REQUIRE_APPROVAL}"`,
      ),
    );
  }
  if (outcome !== undefined && parsed.json.effect === 'permit') {
    problems.push(at(`policy "${id}": @outcome only applies to forbid policies`));
  }
  const policy: LoadedPolicy = {
    id,
    source: sourceName,
    line,
    effect: parsed.json.effect,
    requiresApproval: parsed.json.effect === 'forbid' && outcome === REQUIRE_APPROVAL,
    reason: annotations['reason'] || undefined,
    text,
  };
  return { policy, problems };
}

function duplicateIdProblems(policies: readonly LoadedPolicy[]): PolicyProblem[] {
  const first = new Map<string, LoadedPolicy>();
  const problems: PolicyProblem[] = [];
  for (const policy of policies) {
    const earlier = first.get(policy.id);
    if (earlier === undefined) {
      first.set(policy.id, policy);
      continue;
    }
    const where = `${earlier.source}${earlier.line === undefined ? '' : `:${earlier.line}`}`;
    problems.push({
      source: policy.source,
      message: `duplicate policy id "${policy.id}" (first defined in ${where})`,
      line: policy.line,
    });
  }
  return problems;
}

/** Cedar nests further parse errors under `related`; each is its own problem for the author. */
function flattenError(error: DetailedError): DetailedError[] {
  return [error, ...(error.related ?? []).flatMap(flattenError)];
}

function problemAt(source: PolicySource, error: DetailedError): PolicyProblem {
  const location = error.sourceLocations?.[0];
  const label = location?.label ? ` (${location.label})` : '';
  const message = `${error.message}${label}`;
  return location === undefined
    ? { source: source.name, message }
    : { source: source.name, message, line: lineAtByte(source.text, location.start) };
}

function lineOfText(text: string, fragment: string, from: number): number | undefined {
  const position = text.indexOf(fragment, from);
  return position >= 0 ? lineAt(text, position) : undefined;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) line += 1;
  return line;
}

/** Cedar's source locations are UTF-8 byte offsets, not string indices. */
function lineAtByte(text: string, byteOffset: number): number {
  const bytes = new TextEncoder().encode(text);
  let line = 1;
  for (let i = 0; i < byteOffset && i < bytes.length; i += 1) if (bytes[i] === 0x0a) line += 1;
  return line;
}
