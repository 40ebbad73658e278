// The vocabulary every part of the harness shares: systems, workload shapes, cases, and the driver interface.
// It imports nothing, so any module may import it without making a cycle.

export const ORCHESTRON_SYSTEMS = [
  'orchestron-embedded',
  'orchestron-production-1',
  'orchestron-production-2',
] as const;
export const PEER_SYSTEMS = ['restate', 'dbos', 'dbos-queue'] as const;
export const FLOOR_SYSTEMS = ['floor-postgres', 'floor-sqlite', 'floor-kafka'] as const;
export const ALL_SYSTEMS = [...ORCHESTRON_SYSTEMS, ...PEER_SYSTEMS, ...FLOOR_SYSTEMS] as const;

export type SystemName = (typeof ALL_SYSTEMS)[number];
export type SystemKind = 'orchestron' | 'peer' | 'floor';

export const WORKLOADS = ['W1', 'W2', 'W3', 'W4'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** What one run does: a chain of `width` steps, or `width` parallel steps then a join; each step works `workMs`. */
export interface Shape {
  readonly kind: 'chain' | 'fanout';
  readonly width: number;
  readonly workMs: number;
}

/** One workload at one size, as the plan schedules it for a system. */
export interface Case {
  /** Stable id, e.g. `W1-chain3-x50`. */
  readonly id: string;
  readonly workload: WorkloadName;
  readonly label: string;
  readonly shape: Shape;
  /** Runs kept in flight (closed loop); for W4 the runs in flight when the orchestrator is killed. */
  readonly inFlight: number;
  /** Runs to complete, at most. */
  readonly count: number;
  /** No new run starts after this long; the figures are over what completed. */
  readonly maxSeconds: number;
}

/** What a closed-loop workload gives back. */
export interface WorkloadSample {
  readonly runs: number;
  readonly failed: number;
  /** Step executions the completed runs report (each system's own view of its runs). */
  readonly steps: number;
  readonly seconds: number;
  /** One per completed run, start to result, in ms. */
  readonly latenciesMs: readonly number[];
  readonly firstError?: string;
}

/** A process whose CPU and memory are sampled. `shared` servers (PostgreSQL, Kafka) count for CPU only. */
export interface ProcessRef {
  readonly role: string;
  readonly name: string;
  /** A pid, or a lookup for servers whose processes come and go (PostgreSQL backends). */
  readonly pids: () => readonly number[];
  readonly shared?: boolean;
}

/** Executions recorded by the side-effect counter of W4: every step execution, and how many distinct steps. */
export interface ExecutionCount {
  readonly executions: number;
  readonly distinct: number;
}

/** What W4 needs of a system: start runs without waiting, kill and replace the orchestrator, wait, count. */
export interface CrashControls {
  /** Starts `count` runs that record their step executions; resolves with handles once all are accepted. */
  submit(shape: Shape, count: number): Promise<readonly string[]>;
  /** kill -9 of the orchestrator (or the peer's server); resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts the replacement; resolves once it answers. */
  restart(): Promise<void>;
  /** Resolves with how many of `handles` completed (each is awaited until `timeoutMs` from now). */
  awaitAll(handles: readonly string[], timeoutMs: number): Promise<number>;
  executions(): Promise<ExecutionCount>;
}

export interface DriverContext {
  /** Where the driver may keep files; removed after the bench. */
  readonly workDir: string;
  /** Unique per bench invocation; part of every schema, topic and database name. */
  readonly tag: string;
  readonly log: (line: string) => void;
}

/** One system under test. Workloads are written once (workloads.ts) and run through this interface. */
export interface Driver {
  readonly system: SystemName;
  readonly kind: SystemKind;
  start(): Promise<void>;
  runWorkload(shape: Shape, inFlight: number, count: number, maxSeconds: number): Promise<WorkloadSample>;
  stop(): Promise<void>;
  /** The processes that make up the system now (they change after a W4 restart). */
  pids(): readonly ProcessRef[];
  /** Events (Orchestron) and rows (any durable table) stored so far; null when the system does not say. */
  writes(): Promise<{ readonly events: number | null; readonly rows: number | null }>;
  /** W4, or why this system cannot run it. */
  readonly crash: CrashControls | { readonly unsupported: string };
  /** Settings worth recording (partitions, pool sizes, polling). */
  settings(): Record<string, unknown>;
}

export function stepsPerRun(shape: Shape): number {
  return shape.kind === 'chain' ? shape.width : shape.width + 1;
}

export function systemKind(system: SystemName): SystemKind {
  if ((ORCHESTRON_SYSTEMS as readonly string[]).includes(system)) return 'orchestron';
  if ((PEER_SYSTEMS as readonly string[]).includes(system)) return 'peer';
  return 'floor';
}
