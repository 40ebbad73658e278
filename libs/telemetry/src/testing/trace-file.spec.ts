import { spanIdForRun, traceIdForRun } from '../trace-ids.ts';
import type { CollectedSpan } from './otlp-json.ts';
import { listTraces, renderTrace } from './trace-file.ts';

const RUN = 'run-1';
const TRACE = traceIdForRun(RUN);
const T0 = 1_800_000_000_000_000_000n;

function span(
  spanId: string,
  parentSpanId: string | undefined,
  name: string,
  service: string,
  startMs: number,
  durationMs: number,
  extra: Partial<CollectedSpan> = {},
): CollectedSpan {
  const start = T0 + BigInt(startMs * 1e6);
  return {
    traceId: TRACE,
    spanId,
    ...(parentSpanId === undefined ? {} : { parentSpanId }),
    name,
    kind: 'internal',
    service,
    startTime: new Date(Number(start / 1_000_000n)).toISOString(),
    endTime: new Date(Number(start / 1_000_000n) + durationMs).toISOString(),
    startTimeUnixNano: start.toString(),
    durationMs,
    status: { code: 'unset' },
    attributes: {},
    ...extra,
  };
}

const spans: CollectedSpan[] = [
  span('000000000000000c', '000000000000000b', 'worker.charge', 'worker', 30, 120, {
    kind: 'consumer',
    instance: 'w-1',
    status: { code: 'error', message: 'card declined' },
  }),
  span('000000000000000a', spanIdForRun(RUN), 'api.start-run', 'api', 0, 12.5, {
    kind: 'server',
    attributes: { 'orchestron.run.id': RUN },
  }),
  span('000000000000000b', '000000000000000a', 'orchestrator.dispatch', 'orchestrator', 10, 3),
  span('000000000000000d', '000000000000000b', 'governance.check', 'governance', 12, 1500),
  span('000000000000000e', spanIdForRun(RUN), 'timer.fire', 'orchestrator', 2000, 1),
  span('000000000000000f', 'ffffffffffffffff', 'worker.lost', 'worker', 2100, 2),
  { ...span('0000000000000001', undefined, 'elsewhere', 'api', 0, 1), traceId: '0af7651916cd43dd8448eb211c80319c' },
];

describe('renderTrace', () => {
  it("draws the run's trace as a tree under the run's root, with services, durations and offsets", () => {
    expect(renderTrace(spans, TRACE).split('\n')).toEqual([
      `trace ${TRACE} (run ${RUN}): 6 spans`,
      `run ${RUN} (the run's root ${spanIdForRun(RUN)}: not a span)`,
      '├─ api.start-run (server) [api] 12.5 ms @+0.0 ms',
      '│  └─ orchestrator.dispatch [orchestrator] 3.0 ms @+10.0 ms',
      '│     ├─ governance.check [governance] 1.50 s @+12.0 ms',
      '│     └─ worker.charge (consumer) [worker/w-1] 120.0 ms @+30.0 ms  ERROR card declined',
      '└─ timer.fire [orchestrator] 1.0 ms @+2.00 s',
      'ffffffffffffffff (parent not in file)',
      '└─ worker.lost [worker] 2.0 ms @+2.10 s',
      'spans per service: api 1, governance 1, orchestrator 2, worker 2',
    ]);
  });

  it('says so when the trace has no spans', () => {
    expect(renderTrace(spans, traceIdForRun('other'), 'other')).toBe(
      `no spans for trace ${traceIdForRun('other')} (run other)`,
    );
  });
});

describe('listTraces', () => {
  it('gives one line per trace with its run, span count and services', () => {
    expect(listTraces(spans).split('\n')).toEqual([
      `${TRACE} run ${RUN}  6 spans  api 1, governance 1, orchestrator 2, worker 2  first: api.start-run`,
      '0af7651916cd43dd8448eb211c80319c  1 span  api 1  first: elsewhere',
    ]);
  });
});
