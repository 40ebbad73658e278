// Starting one process of the stack and waiting until it says it is ready.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive } from './host.ts';
import { ROOT } from './root.ts';

export type StackRole = 'orchestrator' | 'governance' | 'api' | 'worker' | 'collector';

export interface StackProcess {
  readonly name: string;
  readonly role: StackRole;
  readonly pid: number;
  readonly logFile: string;
  /** What the process printed when it was ready. */
  readonly ready: string;
}

/** How to start one service of the stack: what `stack:restart` replays. */
export interface Spec {
  readonly name: string;
  readonly role: StackRole;
  /** Relative to the repository's root. */
  readonly script: string;
  readonly args?: readonly string[];
  /** The stack's own environment for it, over the one of the process that launches it. */
  readonly env: Record<string, string>;
  /** The line it prints once ready. */
  readonly ready: RegExp;
}

const READY_WITHIN_MS = 90_000;

/** Spawns `spec` detached, its output to `<dir>/logs/<logName>.log`, and resolves once it has printed its ready line. */
export async function launch(
  spec: Spec,
  dir: string,
  onSpawn: (spawned: StackProcess) => void,
  logName: string = spec.name,
): Promise<StackProcess> {
  const logFile = join(dir, 'logs', `${logName}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [join(ROOT, spec.script), ...(spec.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  child.unref();
  const pid = child.pid as number;
  onSpawn({ name: spec.name, role: spec.role, pid, logFile, ready: '' });
  const ready = await new Promise<string>((resolvePromise, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const text = readFileSync(logFile, 'utf8');
      const line = text.split('\n').find((l) => spec.ready.test(l) && !l.startsWith('{'));
      if (line) {
        clearInterval(poll);
        resolvePromise(line);
      } else if (!alive(pid)) {
        clearInterval(poll);
        reject(
          new Error(
            `${spec.name} exited before it was ready; its log (${logFile}) ends:\n${text.split('\n').slice(-15).join('\n')}`,
          ),
        );
      } else if (Date.now() - started > READY_WITHIN_MS) {
        clearInterval(poll);
        reject(new Error(`${spec.name} was not ready within ${READY_WITHIN_MS / 1000} s; see ${logFile}`));
      }
    }, 100);
  });
  return { name: spec.name, role: spec.role, pid, logFile, ready };
}
