// Which cases each system runs, and how big they are, for a full run and for --quick.
import { systemKind } from './types.ts';
import type { Case, Shape, SystemName, WorkloadName } from './types.ts';
import type { BenchOptions } from './options.ts';

export interface Plan {
  readonly quick: boolean;
  readonly reps: number;
  readonly systems: readonly SystemName[];
  readonly cases: readonly Case[];
  /** The ids of the cases each system runs, in order. */
  readonly casesBySystem: Readonly<Record<string, readonly string[]>>;
  /** Runs before the measured cases of each start, not recorded. */
  readonly warmUp: { readonly shape: Shape; readonly inFlight: number; readonly count: number };
}

interface Sizes {
  /** Closed loop at 1 in flight / at many in flight: how many runs at most, and for how long at most. */
  readonly serial: { readonly count: number; readonly maxSeconds: number };
  readonly parallel: { readonly count: number; readonly maxSeconds: number };
  readonly crashRuns: number;
  readonly crashSeconds: number;
}

const FULL: Sizes = {
  serial: { count: 300, maxSeconds: 2 },
  parallel: { count: 3000, maxSeconds: 3 },
  crashRuns: 1000,
  crashSeconds: 180,
};
const QUICK: Sizes = {
  serial: { count: 30, maxSeconds: 1 },
  parallel: { count: 300, maxSeconds: 1.5 },
  crashRuns: 100,
  crashSeconds: 60,
};

const chain = (width: number, workMs = 0): Shape => ({ kind: 'chain', width, workMs });
const fanout = (width: number): Shape => ({ kind: 'fanout', width, workMs: 0 });

function closedLoop(workload: WorkloadName, shape: Shape, inFlight: number, sizes: Sizes): Case {
  const size = inFlight === 1 ? sizes.serial : sizes.parallel;
  // Wide runs are heavier: fewer of them fill the same time.
  const perRun = shape.kind === 'fanout' ? Math.max(1, shape.width / 3) : 1;
  const name = `${shape.kind}${shape.width}${shape.workMs > 0 ? `-work${shape.workMs}ms` : ''}`;
  return {
    id: `${workload}-${name}-x${inFlight}`,
    workload,
    label: `${workload} ${shape.kind === 'chain' ? `chain of ${shape.width}` : `fan-out ${shape.width} + join`}${shape.workMs > 0 ? `, ${shape.workMs} ms work` : ''}, ${inFlight} in flight`,
    shape,
    inFlight,
    count: Math.max(inFlight, Math.round(size.count / perRun)),
    maxSeconds: size.maxSeconds,
  };
}

/** Every case of the chosen workloads. W1 at 1 and 50 in flight; W2 at 1 and 10 (a 100-wide run is 101 steps); --quick takes fewer. */
export function allCases(workloads: readonly WorkloadName[], quick: boolean): Case[] {
  const sizes = quick ? QUICK : FULL;
  const cases: Case[] = [];
  if (workloads.includes('W1'))
    for (const width of quick ? [1, 3] : [1, 3, 10])
      for (const inFlight of [1, 50]) cases.push(closedLoop('W1', chain(width), inFlight, sizes));
  if (workloads.includes('W2'))
    for (const width of [10, 100])
      for (const inFlight of quick ? [1] : [1, 10]) cases.push(closedLoop('W2', fanout(width), inFlight, sizes));
  if (workloads.includes('W3'))
    for (const inFlight of [1, 50]) cases.push(closedLoop('W3', chain(3, 10), inFlight, sizes));
  if (workloads.includes('W4'))
    cases.push({
      id: `W4-kill9-x${sizes.crashRuns}`,
      workload: 'W4',
      label: `W4 kill -9 of the orchestrator with ${sizes.crashRuns} 3-step runs in flight`,
      shape: chain(3),
      inFlight: sizes.crashRuns,
      count: sizes.crashRuns,
      maxSeconds: sizes.crashSeconds,
    });
  return cases;
}

/** A floor is one durable write (or one hop): it runs W1's 1-step chain, at 1 and at 50 in flight, and nothing else. */
function runsCase(system: SystemName, c: Case): boolean {
  return systemKind(system) !== 'floor' || (c.workload === 'W1' && c.shape.width === 1);
}

export function buildPlan(options: Pick<BenchOptions, 'quick' | 'systems' | 'workloads' | 'reps'>): Plan {
  const cases = allCases(options.workloads, options.quick);
  const casesBySystem = Object.fromEntries(
    options.systems.map((s) => [s, cases.filter((c) => runsCase(s, c)).map((c) => c.id)]),
  );
  return {
    quick: options.quick,
    reps: options.reps,
    systems: options.systems,
    cases,
    casesBySystem,
    warmUp: { shape: chain(3), inFlight: 10, count: options.quick ? 20 : 100 },
  };
}
