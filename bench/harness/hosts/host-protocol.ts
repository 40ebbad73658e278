// The child side of a host process (a system that runs in one Node process: the embedded tier, DBOS), driven by
// the bench over the IPC channel of child_process.fork: `{ id, type, ...args }` in, `{ id, ok, value | error }` out.
import type { Shape } from '../types.ts';

export type HostRequest =
  | {
      readonly type: 'run';
      readonly shape: Shape;
      readonly inFlight: number;
      readonly count: number;
      readonly maxSeconds: number;
    }
  | { readonly type: 'submit'; readonly shape: Shape; readonly count: number }
  | { readonly type: 'await'; readonly handles: readonly string[]; readonly timeoutMs: number }
  | { readonly type: 'stop' };

export type HostHandlers = {
  readonly [K in HostRequest['type']]: (request: Extract<HostRequest, { type: K }>) => Promise<unknown>;
};

/** Answers requests until `stop`, whose handler closes the system; then the process exits. */
export function serveHost(handlers: HostHandlers, ready: Record<string, unknown>): void {
  const send = (message: unknown): void => {
    process.send?.(message);
  };
  process.on('message', (raw) => {
    const message = raw as HostRequest & { readonly id: number };
    const handler = handlers[message.type] as (request: HostRequest) => Promise<unknown>;
    handler(message).then(
      (value) => {
        send({ id: message.id, ok: true, value });
        if (message.type === 'stop') process.disconnect?.();
      },
      (error: unknown) =>
        send({ id: message.id, ok: false, error: error instanceof Error ? error.stack : String(error) }),
    );
  });
  // The bench went away (killed, or a test that failed): nothing here should outlive it.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', ...ready });
}

/** `--key value` pairs of a host's command line. */
export function hostArgs(argv: readonly string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (key?.startsWith('--') && value !== undefined) args[key.slice(2)] = value;
  }
  return args;
}
