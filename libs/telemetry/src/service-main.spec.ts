import { describe, expect, it } from '@jest/globals';
import { runServiceMain } from './service-main.ts';
import type { MainProcess, RunningService, ServiceMain } from './service-main.ts';

class FakeProcess implements MainProcess {
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly exits: number[] = [];
  private readonly listeners = new Map<string, () => void>();
  readonly stdout = { write: (text: string) => this.out.push(text) };
  readonly stderr = { write: (text: string) => this.err.push(text) };
  readonly argv: readonly string[];
  constructor(argv: readonly string[]) {
    this.argv = argv;
  }
  on(signal: string, listener: () => void): void {
    this.listeners.set(signal, listener);
  }
  exit(code: number): void {
    this.exits.push(code);
  }
  signal(name: 'SIGINT' | 'SIGTERM'): void {
    this.listeners.get(name)?.();
  }
  get signals(): string[] {
    return [...this.listeners.keys()].sort();
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const argv = (...args: string[]): string[] => ['node', 'main.ts', ...args];

function service(
  overrides: Partial<ServiceMain<{ worker?: string }>> = {},
  closing: () => Promise<void> = async () => undefined,
) {
  const started: Array<{ values: unknown; args: readonly string[] }> = [];
  const logged: string[] = [];
  const running: RunningService = {
    close: closing,
    logger: {
      info: (m) => logged.push(`info ${m}`),
      warn: (m) => logged.push(`warn ${m}`),
      error: (m) => logged.push(`error ${m}`),
    },
  };
  const main: ServiceMain<{ worker?: string }> = {
    name: 'orchestron test',
    help: 'Usage: test\n',
    options: { worker: { type: 'string', short: 'w' } },
    start: async (values, args) => {
      started.push({ values, args });
      return running;
    },
    ...overrides,
  };
  return { main, started, logged };
}

describe('runServiceMain', () => {
  it('answers --help without starting anything', async () => {
    const proc = new FakeProcess(argv('--help'));
    const { main, started } = service();
    await runServiceMain(main, proc);
    expect(proc.out).toEqual(['Usage: test\n']);
    expect(started).toEqual([]);
    expect(proc.exits).toEqual([]);
  });

  it('exits 2 on an unknown option, pointing at --help', async () => {
    const proc = new FakeProcess(argv('--colour'));
    const { main, started } = service();
    await runServiceMain(main, proc);
    expect(proc.err.join('')).toMatch(/^orchestron test: .*--colour.*\nRun with --help for usage\.\n$/s);
    expect(proc.exits).toEqual([2]);
    expect(started).toEqual([]);
  });

  it('starts with the parsed options, then closes on SIGTERM and exits 0', async () => {
    const proc = new FakeProcess(argv('--worker', 'mail'));
    let closed = 0;
    const { main, started, logged } = service({}, async () => {
      closed += 1;
    });
    await runServiceMain(main, proc);
    expect(started).toEqual([{ values: { worker: 'mail' }, args: ['--worker', 'mail'] }]);
    expect(proc.signals).toEqual(['SIGINT', 'SIGTERM']);
    proc.signal('SIGTERM');
    await settle();
    expect([closed, proc.exits, logged]).toEqual([1, [0], ['info shutting down']]);
  });

  it('exits 1 when closing fails, and at once on a second signal', async () => {
    const proc = new FakeProcess(argv());
    let finish: (() => void) | undefined;
    const { main, logged } = service(
      {},
      () =>
        new Promise<void>((_, reject) => {
          finish = () => reject(new Error('pool stuck'));
        }),
    );
    await runServiceMain(main, proc);
    proc.signal('SIGINT');
    proc.signal('SIGINT');
    expect(proc.exits).toEqual([1]);
    finish?.();
    await settle();
    expect(proc.exits).toEqual([1, 1]);
    expect(logged).toEqual([
      'info shutting down',
      'warn second signal: exiting without waiting',
      'error shutdown failed',
    ]);
  });

  it('exits 1 when the service cannot start, or 2 when the service calls the error a usage error', async () => {
    const failing = new FakeProcess(argv());
    await runServiceMain(
      service({
        start: async () => {
          throw new Error('broker unreachable');
        },
      }).main,
      failing,
    );
    expect([failing.err.join(''), failing.exits, failing.signals]).toEqual([
      'orchestron test: broker unreachable\n',
      [1],
      [],
    ]);

    const misused = new FakeProcess(argv());
    await runServiceMain(
      service({
        start: async () => {
          throw new RangeError('--worker is required');
        },
        isUsageError: (e) => e instanceof RangeError,
      }).main,
      misused,
    );
    expect([misused.err.join(''), misused.exits]).toEqual([
      'orchestron test: --worker is required\nRun with --help for usage.\n',
      [2],
    ]);
  });
});
