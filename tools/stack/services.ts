// One service of a running stack: kill it, or start it again, from what startStack recorded in the stack's directory.
// Any process may do it (npm run stack:kill | stack:restart), not only the one that started the stack.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, signal } from './host.ts';
import { launch } from './launch.ts';
import type { Spec, StackProcess } from './launch.ts';

export const ROLES = ['admin', 'operator', 'producer', 'auditor', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** What kill and restart need of a stack: where it lives, its processes, and its keys (the API's are derived from them). */
export interface StackState {
  readonly dir: string;
  readonly keys: Readonly<Record<Role, string>>;
  readonly processes: readonly StackProcess[];
}

/**
 * The API's ORCHESTRON_API_KEYS for the stack's keys: one `key:role:name` per role. The operator also holds group
 * finance, so it may decide the example's `role:finance` approval gate, as the stack's tests do.
 */
export function apiKeysOf(keys: Readonly<Record<Role, string>>): string {
  return ROLES.map((role) => `${keys[role]}:${role}:stack-${role}${role === 'operator' ? '::finance' : ''}`).join(',');
}

const SERVICES_FILE = 'services.json';
const PG_URL = 'ORCHESTRON_PG_URL';

interface RecordedSpec {
  readonly name: string;
  readonly role: Spec['role'];
  readonly script: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly ready: string;
  /** Variables whose secret part was left out of this file; restart takes them from its own environment. */
  readonly redacted: readonly string[];
}

/**
 * Writes how to start each service again to `<dir>/services.json` (mode 0600), without secrets: the API's keys are
 * derived from stack.json's at restart, and a password in the PostgreSQL URL is left out.
 */
export function recordServices(dir: string, specs: readonly Spec[]): void {
  const recorded = specs.map((spec): RecordedSpec => {
    const { ORCHESTRON_API_KEYS: _keys, ...env } = spec.env;
    const redacted: string[] = [];
    const url = env[PG_URL];
    if (url !== undefined && URL.canParse(url) && new URL(url).password !== '') {
      const bare = new URL(url);
      bare.password = '';
      env[PG_URL] = bare.toString();
      redacted.push(PG_URL);
    }
    return {
      name: spec.name,
      role: spec.role,
      script: spec.script,
      args: [...(spec.args ?? [])],
      env,
      ready: spec.ready.source,
      redacted,
    };
  });
  writeFileSync(join(dir, SERVICES_FILE), JSON.stringify(recorded, null, 2), { mode: 0o600 });
}

/** Reads stack.json of the stack in `dir`; throws when no stack was started there. */
export function readStackState(dir: string): StackState {
  const file = join(dir, 'stack.json');
  if (!existsSync(file)) throw new Error(`no stack was started from ${dir} (no stack.json; npm run stack:start)`);
  return JSON.parse(readFileSync(file, 'utf8')) as StackState;
}

/** The signals that end a service: after one, killStackProcess waits until the process is gone. */
export const ENDING_SIGNALS: readonly NodeJS.Signals[] = ['SIGKILL', 'SIGTERM', 'SIGINT'];

/**
 * Sends `signalName` to the stack's service called `name` (e.g. `orchestrator-1`, `governance`, `mail-2`) and, for a
 * signal that ends it, waits until it is gone (10 s at most), so the caller knows the kill has happened on return.
 */
export async function killStackProcess(
  stack: Pick<StackState, 'processes'>,
  name: string,
  signalName: NodeJS.Signals = 'SIGKILL',
): Promise<StackProcess> {
  const target = stack.processes.find((p) => p.name === name);
  if (target === undefined)
    throw new Error(
      stack.processes.length === 0
        ? `kill: the stack runs no service (npm run stack:start)`
        : `kill: the stack has no service called "${name}"; it has ${stack.processes.map((p) => p.name).join(', ')}`,
    );
  if (!alive(target.pid)) throw new Error(`kill: ${name} (pid ${target.pid}) is not running`);
  signal(target.pid, signalName);
  if (ENDING_SIGNALS.includes(signalName)) {
    const deadline = Date.now() + 10_000;
    while (alive(target.pid)) {
      if (Date.now() > deadline)
        throw new Error(`kill: ${name} (pid ${target.pid}) is still running 10 s after ${signalName}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return target;
}

/**
 * Starts a replacement for the stack's service called `name`, which must not be running (kill it first), with the
 * script, arguments and environment recorded in the stack's services.json, and waits until it is ready. Returns the
 * stack with the replacement in place; stack.json is updated too, so stopStack stops it. Its log is
 * `<name>.restart-<n>.log`.
 */
export async function restartStackProcess<S extends StackState>(
  stack: S,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<S> {
  const specs = readRecordedSpecs(stack.dir);
  const recorded = specs.find((s) => s.name === name);
  if (recorded === undefined)
    throw new Error(
      `restart: the stack in ${stack.dir} has no service called "${name}"; it has ${specs.map((s) => s.name).join(', ')}`,
    );
  const old = stack.processes.find((p) => p.name === name);
  if (old && alive(old.pid)) throw new Error(`restart: ${name} (pid ${old.pid}) is still running; kill it first`);
  const spec = restore(recorded, stack, env);
  const logs = existsSync(join(stack.dir, 'logs')) ? readdirSync(join(stack.dir, 'logs')) : [];
  const n = logs.filter((f) => f.startsWith(`${name}.restart-`)).length + 1;
  const replacement = await launch(
    spec,
    stack.dir,
    (p) => void replaceInStackFile(stack, [name], p),
    `${name}.restart-${n}`,
  );
  const next = replaceInStackFile(stack, [name], replacement);
  return { ...stack, processes: next.processes };
}

/**
 * Rewrites stack.json as it stands now (another command may have changed it since `stack` was read), with the
 * processes called `drop` replaced by `add`, and returns what it wrote.
 */
export function replaceInStackFile<S extends StackState>(stack: S, drop: readonly string[], add: StackProcess): S {
  const file = join(stack.dir, 'stack.json');
  const now: S = { ...stack, ...(existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as S) : {}) };
  const next: S = { ...now, processes: [...now.processes.filter((p) => !drop.includes(p.name)), add] };
  writeFileSync(file, JSON.stringify(next, null, 2), { mode: 0o600 });
  return next;
}

function readRecordedSpecs(dir: string): RecordedSpec[] {
  const file = join(dir, SERVICES_FILE);
  if (!existsSync(file))
    throw new Error(`restart: ${file} is missing; the stack in ${dir} was started before services were recorded`);
  return JSON.parse(readFileSync(file, 'utf8')) as RecordedSpec[];
}

function restore(recorded: RecordedSpec, stack: StackState, env: NodeJS.ProcessEnv): Spec {
  const restored: Record<string, string> = { ...recorded.env };
  if (recorded.role === 'api') restored.ORCHESTRON_API_KEYS = apiKeysOf(stack.keys);
  if (recorded.redacted.includes(PG_URL)) {
    const given = env[PG_URL];
    if (given !== undefined && given !== '') restored[PG_URL] = given;
    else if (env.PGPASSWORD === undefined)
      throw new Error(
        `restart: the stack's PostgreSQL URL has a password, which is not written to disk; set ${PG_URL} (with it) or PGPASSWORD`,
      );
  }
  return {
    name: recorded.name,
    role: recorded.role,
    script: recorded.script,
    args: recorded.args,
    env: restored,
    ready: new RegExp(recorded.ready),
  };
}
