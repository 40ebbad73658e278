// A standby of the stack taking over from the orchestrator it stands by for (ORCHESTRON_STANDBY=1, startStack's
// `standbys`), and a new standby started in its place.
import { readFileSync } from 'node:fs';
import { alive } from './host.ts';
import { replaceInStackFile, restartStackProcess } from './services.ts';
import type { StackState } from './services.ts';

const TAKEOVER_WITHIN_MS = 60_000;

/** The name of the standby for the stack's orchestrator called `name`. */
export const standbyOf = (name: string): string => `${name}-standby`;

/**
 * After the stack's orchestrator called `name` died: waits until its standby has taken over (printed its ready line)
 * and records it under `name`, then starts a new standby. Resolves once the standby runs as `name`; `next` resolves
 * with the stack once the new standby stands by too.
 */
export async function promoteStandby<S extends StackState>(
  stack: S,
  name: string,
): Promise<{ readonly stack: S; readonly next: Promise<S> }> {
  const standby = stack.processes.find((p) => p.name === standbyOf(name));
  if (standby === undefined) throw new Error(`promote: the stack has no standby for ${name}`);
  const dead = stack.processes.find((p) => p.name === name);
  if (dead && alive(dead.pid)) throw new Error(`promote: ${name} (pid ${dead.pid}) is still running; kill it first`);
  const deadline = Date.now() + TAKEOVER_WITHIN_MS;
  let ready: string | undefined;
  while ((ready = readyLine(standby.logFile)) === undefined) {
    if (!alive(standby.pid)) throw new Error(`promote: the standby for ${name} exited; see ${standby.logFile}`);
    if (Date.now() > deadline)
      throw new Error(`promote: the standby for ${name} did not take over within ${TAKEOVER_WITHIN_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const promoted = replaceInStackFile(stack, [name, standby.name], { ...standby, name, ready });
  return { stack: promoted, next: restartStackProcess(promoted, standbyOf(name)) };
}

/** The line an orchestrator prints once it consumes (`orchestrator <name> ready (…)`), if it has. */
function readyLine(logFile: string): string | undefined {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .find((line) => !line.startsWith('{') && /^orchestrator \S+ ready\b/.test(line));
}
