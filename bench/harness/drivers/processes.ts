// Starting and stopping the server processes of the peers: free ports, a log per process, readiness checks.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Spawned {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logFile: string;
}

export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Spawns `command` with its output appended to `logFile`, and waits until the log matches `ready`. */
export async function spawnUntil(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  logFile: string,
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<Spawned> {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, [...args], { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + timeoutMs;
  const start = readFileSync(logFile, 'utf8').length;
  for (;;) {
    if (ready.test(readFileSync(logFile, 'utf8').slice(start))) return { pid: child.pid as number, child, logFile };
    if (exited) throw new Error(`${command} exited before it was ready: ${logTail(logFile, start)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${command} was not ready within ${timeoutMs} ms: ${logTail(logFile, start)}`);
    }
    await sleep(50);
  }
}

/**
 * The end of what a process logged since `from`, on one line: the reason a start failed has to outlive the work
 * directory, which the bench deletes when it is done.
 */
export function logTail(logFile: string, from = 0, chars = 600): string {
  const text = readFileSync(logFile, 'utf8').slice(from).trim();
  const tail = text.length > chars ? `…${text.slice(-chars)}` : text;
  return tail === '' ? `(${logFile} is empty)` : tail.replace(/\s*\n\s*/g, ' ⏎ ');
}

/** Polls `url` until it answers 2xx. */
export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** SIGTERM (or SIGKILL), then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(
  spawned: Spawned | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 10_000,
): Promise<void> {
  if (!spawned || spawned.child.exitCode !== null || spawned.child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => spawned.child.once('exit', () => resolve()));
  spawned.child.kill(signal);
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}
