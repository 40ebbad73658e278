import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { LocalDefinitionError, ServerUnreachableError, ApiError, UsageError, WaitTimeoutError } from '../cli.errors.ts';
import { parseIntegerOption, parseJsonOption, parseSecondsOption } from '../json-option.ts';
import { printJson } from '../output.ts';
import { renderProgress, summaryLine } from '../progress.renderer.ts';
import { hintLines, operatorHints, waitState } from '../run-state.ts';
import type { ApiClient, RunResponse } from '../api.client.ts';
import type { RunView, StartRunRequest } from '../api.types.ts';
import type { CliContext } from '../cli.context.ts';
import type { Outcome } from '../exit-codes.ts';
import type { Command } from 'commander';

interface RunOptions {
  readonly input?: string;
  readonly idempotencyKey?: string;
  readonly version?: string;
  readonly wait?: boolean;
  readonly timeout?: string;
  readonly json?: boolean;
}

export const POLL_INTERVAL_MS = 250;
/** The longest one long poll asks the server to hold (under the client's 30 s request timeout). */
const MAX_WAIT_CALL_MS = 20_000;
/** Polls in a row that may fail (server restarting, network blip) before `--wait` gives up. */
const MAX_POLL_FAILURES = 3;
/** Polls in a row that must see the run idle on an approval before it counts as waiting for a human. */
const IDLE_POLLS = 2;

const EXAMPLES = `
Examples:
  $ orchestron run examples/employee-onboarding.yaml --input '{"email":"a@b.c"}' --wait
  $ orchestron run examples/employee-onboarding.yaml --input @new-hire.json --idempotency-key hire-42
  $ orchestron run employee-onboarding --version 1 --input '{"email":"a@b.c","manager":true}' --wait --timeout 60
  $ orchestron run employee-onboarding --input '{"email":"a@b.c"}' --wait --json | tail -n 1 | jq .status

A file argument (.yaml, .yml, .json) is parsed here and sent inline; anything else is a stored definition id.
With --wait, the CLI prints a line per step change and exits with the run's outcome:
  0 completed, 1 failed/compensated/cancelled, 3 needs an operator or an approval, 4 timed out.
`;

export function registerRunCommand(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('start a run of a workflow definition, optionally waiting for it to finish')
    .argument('<definition>', 'a definition file (.yaml, .yml, .json) or the id of a definition the server knows')
    .option('-i, --input <json|@file>', 'the run input: JSON text, or @path to a JSON file')
    .option('--idempotency-key <key>', 'start at most one run for this key; repeating returns the existing run')
    .option('--version <n>', 'definition version, with a definition id (default: the latest)')
    .option('-w, --wait', 'follow the run, printing each step change, until it finishes or needs someone')
    .option('--timeout <seconds>', 'with --wait, give up after this long (exit 4; the run carries on)')
    .option('--json', 'print JSON only; the last line is the run')
    .addHelpText('after', EXAMPLES)
    .action(async (definition: string, options: RunOptions, command: Command) => {
      ctx.finish(await runCommand(ctx, command, definition, options));
    });
}

async function runCommand(ctx: CliContext, command: Command, target: string, options: RunOptions): Promise<Outcome> {
  const timeoutSeconds = options.timeout === undefined ? null : parseSecondsOption(options.timeout, '--timeout');
  const request = await startRequest(ctx, target, options);
  const client = ctx.client(command);
  const started = await client.startRun(request);
  const json = options.json === true;
  if (!options.wait) {
    if (json) printJson(ctx.io, started.run);
    else printStarted(ctx, started.run, started.existing ? (options.idempotencyKey ?? null) : null);
    return { kind: 'run', status: started.run.status };
  }
  return waitForRun(ctx, client, started, json, timeoutSeconds);
}

async function startRequest(ctx: CliContext, target: string, options: RunOptions): Promise<StartRunRequest> {
  const input = options.input === undefined ? undefined : parseJsonOption(options.input, '--input', ctx.cwd);
  const base = { input, idempotencyKey: options.idempotencyKey };
  const path = resolve(ctx.cwd, target);
  if (isFile(path)) {
    if (options.version !== undefined)
      throw new UsageError('--version picks a stored definition; a file already says its version');
    return { ...base, definition: await parseDefinitionFile(path, target) };
  }
  if (/\.(ya?ml|json)$/i.test(target)) throw new UsageError(`no such definition file: ${target}`);
  const definitionVersion =
    options.version === undefined ? undefined : parseIntegerOption(options.version, '--version', 1);
  return { ...base, definitionId: target, definitionVersion };
}

/** Only syntax is checked here; the server validates the definition and reports every problem. */
async function parseDefinitionFile(path: string, name: string): Promise<unknown> {
  // Loaded lazily: the definitions lib (YAML, Ajv, CEL) costs more startup than every other command needs.
  const { parseDefinitionText, DefinitionInvalidError } = await import('@orchestron/definitions');
  try {
    return parseDefinitionText(readFileSync(path, 'utf8'), name);
  } catch (error) {
    if (error instanceof DefinitionInvalidError) throw new LocalDefinitionError(name, error.issues);
    throw error;
  }
}

function printStarted(ctx: CliContext, run: RunView, matchedKey: string | null): void {
  const what = `${run.definition.id} v${run.definition.version}`;
  ctx.io.out(
    matchedKey === null
      ? `Started run ${run.id} (${what}): ${run.status}`
      : `Run ${run.id} (${what}) already exists for idempotency key ${matchedKey}: ${run.status}`,
  );
  ctx.io.out(`Follow it with: orchestron status ${run.id}`);
}

async function waitForRun(
  ctx: CliContext,
  client: ApiClient,
  started: RunResponse,
  json: boolean,
  timeoutSeconds: number | null,
): Promise<Outcome> {
  const { io } = ctx;
  const deadline = timeoutSeconds === null ? Infinity : ctx.now() + timeoutSeconds * 1000;
  let previous: RunView | null = null;
  let run = started.run;
  let idlePolls = 0;
  let follow: ReturnType<typeof follower> | null = follower(client);
  if (!json) io.out(`Run ${run.id} — ${run.definition.name ?? run.definition.id} v${run.definition.version}`);
  for (;;) {
    if (!json) for (const line of renderProgress(previous, run, { colour: io.colour })) io.out(line);
    const state = waitState(run);
    if (state === 'finished' || state === 'needs_operator')
      return finishWaiting(ctx, run, json, { kind: 'run', status: run.status });
    idlePolls = state === 'waiting_for_human' ? idlePolls + 1 : 0;
    if (idlePolls >= IDLE_POLLS) return finishWaiting(ctx, run, json, { kind: 'waiting_for_human' });
    const remaining = deadline - ctx.now();
    if (remaining <= 0) throw new WaitTimeoutError(run.id, timeoutSeconds ?? 0, run.status);
    previous = run;
    // A human's decision is judged over polls a short interval apart; any other change is waited for.
    const holdMs = state === 'waiting_for_human' ? 2 * POLL_INTERVAL_MS : Math.min(MAX_WAIT_CALL_MS, remaining);
    const runId = run.id;
    const following = follow;
    const next = following === null ? null : await retrying(ctx, json, () => following.next(runId, holdMs));
    if (next === null) follow = null;
    if (next !== null) run = next;
    else {
      await ctx.sleep(Math.min(POLL_INTERVAL_MS, remaining));
      run = await retrying(ctx, json, async () => (await client.getRun(runId)).run);
    }
  }
}

/**
 * Follows a run with the server's long poll, from position to position; null (and from then on the CLI polls)
 * when the server has no wait route, as an older one does not.
 */
function follower(client: ApiClient): { next(runId: string, timeoutMs: number): Promise<RunView | null> } {
  let after = 0;
  return {
    async next(runId, timeoutMs) {
      try {
        const { run, wait } = await client.waitRun(runId, after, Math.max(0, Math.round(timeoutMs)));
        after = wait.position;
        return run;
      } catch (error) {
        if (error instanceof ApiError && error.httpStatus === 404 && error.code !== 'RUN.NOT_FOUND') return null;
        throw error;
      }
    },
  };
}

/** Calls the server, trying again over a few transient failures (a restart, a network blip). */
async function retrying<T>(ctx: CliContext, json: boolean, call: () => Promise<T>): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await call();
    } catch (error) {
      const transient =
        error instanceof ServerUnreachableError || (error instanceof ApiError && error.httpStatus >= 500);
      if (!transient || failures + 1 >= MAX_POLL_FAILURES) throw error;
      if (!json) ctx.io.err(`warning: ${(error as Error).message.split('\n')[0]} — retrying`);
      await ctx.sleep(POLL_INTERVAL_MS * 4);
    }
  }
}

function finishWaiting(ctx: CliContext, run: RunView, json: boolean, outcome: Outcome): Outcome {
  if (json) {
    printJson(ctx.io, run);
    return outcome;
  }
  const { io } = ctx;
  if (outcome.kind === 'waiting_for_human') {
    const waiting = run.steps.filter((s) => s.status === 'waiting_approval').map((s) => s.id);
    io.out(
      `⏸ run ${run.id} is waiting for a human to approve ${waiting.join(', ')}; nothing else can move until then.`,
    );
  } else {
    io.out(summaryLine(run, { colour: io.colour }));
  }
  const hints = operatorHints(run);
  if (hints.length > 0) {
    io.out('To resolve it:');
    for (const line of hintLines(hints)) io.out(line);
  }
  return outcome;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
