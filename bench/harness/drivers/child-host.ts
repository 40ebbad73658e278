// The bench's side of a host process (hosts/host-protocol.ts): fork it, wait until it is ready, send requests,
// stop it or kill it with SIGKILL.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { HostRequest } from '../hosts/host-protocol.ts';

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

export class ChildHost {
  readonly pid: number;
  readonly ready: Record<string, unknown>;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;

  private constructor(child: ChildProcess, ready: Record<string, unknown>) {
    this.child = child;
    this.pid = child.pid as number;
    this.ready = ready;
    child.on('message', (raw) => {
      const message = raw as { id?: number; ok?: boolean; value?: unknown; error?: string };
      const waiting = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id as number);
      if (message.ok) waiting.resolve(message.value);
      else waiting.reject(new Error(message.error ?? 'host request failed'));
    });
    child.once('exit', (code, signal) => {
      this.exited = true;
      for (const waiting of this.pending.values())
        waiting.reject(new Error(`host exited (${signal ?? `code ${code}`}) with a request open`));
      this.pending.clear();
    });
  }

  /** Forks `script` with `--key value` arguments; output goes to `logFile`. Rejects if it exits before it is ready. */
  static start(
    script: string,
    args: Record<string, string>,
    logFile: string,
    readyTimeoutMs = 60_000,
  ): Promise<ChildHost> {
    const fd = openSync(logFile, 'a');
    const child = fork(script, Object.entries(args).flat(), {
      stdio: ['ignore', fd, fd, 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '' },
      serialization: 'advanced',
    });
    closeSync(fd);
    return new Promise<ChildHost>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${script} was not ready within ${readyTimeoutMs} ms; see ${logFile}`));
      }, readyTimeoutMs);
      const onExit = (code: number | null, signal: string | null): void => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (${signal ?? `code ${code}`}) before it was ready; see ${logFile}`));
      };
      child.once('exit', onExit);
      child.once('message', (raw) => {
        const message = raw as { type?: string };
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(new ChildHost(child, message as Record<string, unknown>));
      });
    });
  }

  request<T>(request: HostRequest): Promise<T> {
    if (this.exited) return Promise.reject(new Error('host is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ ...request, id });
    });
  }

  /** Asks the host to close its system and exit; kills it if it has not within `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    this.request({ type: 'stop' }).catch(() => undefined);
    await gone;
    clearTimeout(timer);
  }

  /** kill -9; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await gone;
  }
}
