// The faults the suite injects into a running stack, each at a random point: kill -9 of a service (and its restart
// by the operator's command), kill -9 of the broker, every PostgreSQL connection of the stack cut at once, and a
// pause (SIGSTOP) of a service for longer than the Kafka session timeout.
import pg from 'pg';
import type { FreshBroker } from '../../tools/stack/fresh-broker.ts';
import { killStackProcess, restartStackProcess } from '../../tools/stack/stack.ts';
import type { Stack } from '../../tools/stack/stack.ts';

export const FAULTS = ['orchestrator', 'worker', 'governance', 'api', 'broker', 'pg-cut', 'pause'] as const;
export type FaultName = (typeof FAULTS)[number];

export const FAULT_TITLES: Readonly<Record<FaultName | 'none', string>> = {
  none: 'none (the oracle check)',
  orchestrator: 'kill -9 an orchestrator',
  worker: 'kill -9 a worker',
  governance: 'kill -9 governance',
  api: 'kill -9 the API',
  broker: 'kill -9 the broker',
  'pg-cut': 'PostgreSQL connections cut',
  pause: 'SIGSTOP past the session timeout',
};

/** What a fault needs of the world; `stack` changes as services are restarted. */
export interface FaultTarget {
  stack: Stack;
  readonly broker: FreshBroker;
  readonly pgUrl: string;
  /** The application_name every PostgreSQL connection of the stack carries, so a cut hits only the stack's. */
  readonly pgApplication: string;
  readonly sessionTimeoutMs: number;
  /** A number in [0, 1), from the suite's seeded generator. */
  readonly random: () => number;
}

export interface Injection {
  readonly fault: FaultName;
  /** What it hit: a service's name, "broker", or how many connections were cut. */
  readonly target: string;
  /** When the fault began and when it was over (the service ready again, the process resumed), epoch ms. */
  readonly at: number;
  readonly clearedAt: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Injects `fault` once and returns when it is over (a killed service restarted and ready again). */
export async function inject(fault: FaultName, world: FaultTarget): Promise<Injection> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(world.random() * items.length)] as T;
  const names = (role: string): string[] => world.stack.processes.filter((p) => p.role === role).map((p) => p.name);
  const downMs = 1_000 + Math.floor(world.random() * 2_000);
  switch (fault) {
    case 'orchestrator':
      return killAndRestart(world, fault, pick(names('orchestrator')), downMs);
    case 'worker':
      return killAndRestart(world, fault, pick(names('worker')), downMs);
    case 'governance':
      return killAndRestart(world, fault, 'governance', downMs);
    case 'api':
      return killAndRestart(world, fault, 'api', downMs);
    case 'broker': {
      const at = Date.now();
      await world.broker.crash(downMs);
      return { fault, target: 'broker', at, clearedAt: Date.now() };
    }
    case 'pg-cut': {
      const at = Date.now();
      const cut = await cutConnections(world.pgUrl, world.pgApplication);
      return { fault, target: `${cut} connections`, at, clearedAt: Date.now() };
    }
    case 'pause': {
      const name = pick([...names('orchestrator'), ...names('worker')]);
      const at = Date.now();
      await killStackProcess(world.stack, name, 'SIGSTOP');
      await sleep(world.sessionTimeoutMs + 3_000);
      await killStackProcess(world.stack, name, 'SIGCONT');
      return { fault, target: name, at, clearedAt: Date.now() };
    }
  }
}

async function killAndRestart(world: FaultTarget, fault: FaultName, name: string, downMs: number): Promise<Injection> {
  const at = Date.now();
  await killStackProcess(world.stack, name, 'SIGKILL');
  await sleep(downMs);
  world.stack = await restartStackProcess(world.stack, name);
  return { fault, target: name, at, clearedAt: Date.now() };
}

/** Terminates every backend of the stack (by its application_name); the number cut. Never stops the server. */
export async function cutConnections(pgUrl: string, application: string): Promise<number> {
  const admin = new pg.Client({ connectionString: pgUrl, application_name: 'orchestron-fault-cutter' });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ cut: boolean }>(
      `SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
      [application],
    );
    return rows.filter((r) => r.cut).length;
  } finally {
    await admin.end();
  }
}

/** The stack's PostgreSQL URL with `application_name` set, so its connections can be told from anyone else's. */
export function withApplicationName(pgUrl: string, application: string): string {
  const url = new URL(pgUrl);
  url.searchParams.set('application_name', application);
  return url.toString();
}
