// bench/results/latest.md: the headline, the ratios, every figure per case, CPU by process, settings and versions.
import { num, ratio, spread, table } from './markdown-format.ts';
import type { BenchResults } from './results-file.ts';
import type { RatioRow } from './ratios.ts';
import type { CaseSummary, MetricName } from './results.ts';
import { METRICS } from './results.ts';
import { systemKind } from './types.ts';
import type { Case } from './types.ts';

const LABELS: Record<MetricName, string> = {
  runsPerSec: 'runs/s',
  stepsPerSec: 'steps/s',
  p50Ms: 'p50 ms',
  p90Ms: 'p90 ms',
  p99Ms: 'p99 ms',
  maxMs: 'max ms',
  cpuMsPerRun: 'CPU ms/run',
  peakRssMb: 'peak RSS MB',
  eventsPerStep: 'events/step',
  rowsPerStep: 'rows/step',
  recoverySeconds: 'kill → all done, s',
  duplicates: 'duplicate executions',
};

const CLOSED_LOOP: readonly MetricName[] = METRICS.filter((m) => m !== 'recoverySeconds' && m !== 'duplicates');
const CRASH: readonly MetricName[] = [
  'recoverySeconds',
  'duplicates',
  'runsPerSec',
  'cpuMsPerRun',
  'peakRssMb',
  'eventsPerStep',
  'rowsPerStep',
];
const metricsOf = (c: Case): readonly MetricName[] => (c.workload === 'W4' ? CRASH : CLOSED_LOOP);

export function renderMarkdown(results: BenchResults, chartsDir = 'charts'): string {
  return [
    header(results),
    headline(results),
    ratios(results),
    perCase(results),
    crashDetails(results),
    cpuByProcess(results),
    settings(results),
    charts(results, chartsDir),
    method(),
  ]
    .filter(Boolean)
    .join('\n\n')
    .concat('\n');
}

function find(results: BenchResults, system: string, caseId: string): CaseSummary | undefined {
  return results.summary.find((s) => s.system === system && s.caseId === caseId);
}

function header(r: BenchResults): string {
  const env = r.environment as { machine?: Record<string, unknown>; versions?: Record<string, string> };
  const m = env.machine ?? {};
  return [
    `# Orchestron beside Restate and DBOS — ${r.startedAt}`,
    `${r.quick ? '**Quick run** (`npm run bench:quick`: small counts, a smoke test, not a measurement to quote)' : '**Full run**'}, ` +
      `${r.reps} repetition(s), interleaved (every system in turn within each repetition). Started ${r.startedAt}, finished ${r.finishedAt}.`,
    `Machine: ${String(m.cpus)} CPUs (${String(m.cpuModel)}), ${String(m.memoryGiB)} GiB, Linux ${String(m.kernel)}.`,
    table(
      ['component', 'version'],
      Object.entries(env.versions ?? {}).map(([k, v]) => [k, v]),
    ),
  ].join('\n\n');
}

/** W1's 3-step chain at 1 and 50 in flight, the figures the issue's targets are written in; then the floors. */
function headline(r: BenchResults): string {
  const row = (system: string, one: string, many: string): string[] => {
    const a = find(r, system, one);
    const b = find(r, system, many);
    return [
      system,
      spread(a?.metrics.runsPerSec),
      spread(a?.metrics.p50Ms),
      spread(b?.metrics.runsPerSec),
      spread(b?.metrics.p50Ms),
      spread(b?.metrics.cpuMsPerRun),
    ];
  };
  const head = (what: string): string[] => [
    'system',
    `${what}/s at 1 in flight`,
    'p50 ms at 1',
    `${what}/s at 50 in flight`,
    'p50 ms at 50',
    `CPU ms/${what.slice(0, -1)} at 50`,
  ];
  const systems = r.systems.filter((s) => systemKind(s) !== 'floor');
  const floors = r.systems.filter((s) => systemKind(s) === 'floor');
  const parts = ['## Headline: W1, 3-step no-op runs', 'Median over repetitions, (min–max) when they differ.'];
  if (systems.length > 0 && r.cases.some((c) => c.id === 'W1-chain3-x1' || c.id === 'W1-chain3-x50'))
    parts.push(
      table(
        head('runs'),
        systems.map((s) => row(s, 'W1-chain3-x1', 'W1-chain3-x50')),
      ),
    );
  if (floors.length > 0 && r.cases.some((c) => c.id === 'W1-chain1-x1' || c.id === 'W1-chain1-x50'))
    parts.push(
      'The floors, one operation per run (W1, 1-step chain):',
      table(
        head('ops'),
        floors.map((s) => row(s, 'W1-chain1-x1', 'W1-chain1-x50')),
      ),
    );
  return parts.length > 2 ? parts.join('\n\n') : '';
}

function ratios(r: BenchResults): string {
  if (r.ratios.length === 0) return '';
  const pairs = [...new Set(r.ratios.map((x) => `${x.orchestron}\0${x.peer}`))];
  const isCrash = (caseId: string): boolean => r.cases.find((c) => c.id === caseId)?.workload === 'W4';
  const ratioTable = (rows: readonly RatioRow[], columns: readonly MetricName[]): string =>
    rows.length === 0
      ? ''
      : table(
          ['case', ...columns.map((m) => LABELS[m])],
          rows.map((x) => [x.caseId, ...columns.map((m) => ratio(x.ratios[m]))]),
        );
  const sections = pairs.map((pair) => {
    const [orchestron, peer] = pair.split('\0') as [string, string];
    const rows = r.ratios.filter((x) => x.orchestron === orchestron && x.peer === peer);
    return [
      `### ${orchestron} ÷ ${peer}`,
      ratioTable(
        rows.filter((x) => !isCrash(x.caseId)),
        CLOSED_LOOP.filter((m) => m !== 'eventsPerStep'),
      ),
      ratioTable(
        rows.filter((x) => isCrash(x.caseId)),
        CRASH.filter((m) => m !== 'eventsPerStep'),
      ),
    ]
      .filter(Boolean)
      .join('\n\n');
  });
  return [
    '## Ratios: Orchestron ÷ each peer',
    "Within each repetition, Orchestron's figure divided by the peer's (both from the same sitting); then the median of those ratios, (min–max) over repetitions. Above 1 is better for runs/s and steps/s; below 1 is better for everything else. Events per step have no ratio: the peers store no events.",
    ...sections,
  ].join('\n\n');
}

function perCase(r: BenchResults): string {
  const sections = r.cases.map((c) => {
    const columns = metricsOf(c);
    const rows = r.systems.flatMap((system) => {
      const s = find(r, system, c.id);
      if (!s) return [];
      if (s.status !== 'ok') return [[system, `${s.status}: ${s.reason ?? ''}`, ...columns.slice(1).map(() => '')]];
      return [[system, ...columns.map((m) => spread(s.metrics[m]))]];
    });
    if (rows.length === 0) return '';
    return [
      `### ${c.id}: ${c.label}`,
      `Up to ${c.count} runs or ${c.maxSeconds} s.`,
      table(['system', ...columns.map((m) => LABELS[m])], rows),
    ].join('\n\n');
  });
  return ['## Every figure, per case', ...sections.filter(Boolean)].join('\n\n');
}

function crashDetails(r: BenchResults): string {
  const crashes = r.measurements.filter((m) => m.crash);
  const na = r.summary.filter((s) => r.cases.find((c) => c.id === s.caseId)?.workload === 'W4' && s.status !== 'ok');
  if (crashes.length === 0 && na.length === 0) return '';
  const rows = crashes.map((m) => {
    const c = m.crash as NonNullable<typeof m.crash>;
    return [
      m.system,
      String(m.rep),
      `${c.completed}/${c.runs}`,
      num(c.submitSeconds),
      num(c.killToHealthySeconds),
      num(c.killToDoneSeconds),
      String(c.executions),
      String(c.duplicates),
    ];
  });
  return [
    '## W4 in detail (each repetition)',
    "Runs are accepted, then the orchestrator (embedded: the whole process; production: orchestrator-1; Restate: restate-server; DBOS: the process) is killed with SIGKILL at once and a replacement started on the same data. Executions come from a side-effect counter in the steps (a file of `runId stepId` lines; for the production stack the workers' `worker_executions` table).",
    table(
      ['system', 'rep', 'completed', 'submit s', 'kill → answering s', 'kill → all done s', 'executions', 'duplicates'],
      rows,
    ),
    ...na.map((s) => `- ${s.system}: ${s.status}: ${s.reason ?? ''}`),
  ].join('\n\n');
}

function cpuByProcess(r: BenchResults): string {
  const sections = r.systems.map((system) => {
    const summaries = r.summary.filter((s) => s.system === system && s.status === 'ok');
    const names = [...new Set(summaries.flatMap((s) => s.processes.map((p) => `${p.role}\0${p.name}`)))];
    if (names.length === 0) return '';
    const rows = names.map((key) => {
      const [role, name] = key.split('\0') as [string, string];
      const cells = summaries.map((s) =>
        spread(s.processes.find((p) => p.role === role && p.name === name)?.cpuMsPerRun),
      );
      const rss = summaries.flatMap((s) =>
        s.processes.filter((p) => p.role === role && p.name === name).map((p) => p.peakRssMb?.max ?? null),
      );
      const known = rss.filter((v): v is number => v !== null);
      return [
        name.startsWith(role) ? name : `${name} (${role})`,
        ...cells,
        known.length > 0 ? num(Math.max(...known)) : 'shared server',
      ];
    });
    return [`### ${system}`, table(['process', ...summaries.map((s) => s.caseId), 'peak RSS MB'], rows)].join('\n\n');
  });
  return [
    '## CPU ms per run, by process',
    'CPU-seconds (utime + stime from /proc/<pid>/stat) over the case, divided by the runs completed. `postgres (server)` is every PostgreSQL process on the machine and `kafka (broker)` the broker: shared servers, counted in the CPU totals of the systems that use them but not in their RSS. `client` is the bench process (the HTTP load generator, or idle for systems run in a child process).',
    ...sections.filter(Boolean),
  ].join('\n\n');
}

function settings(r: BenchResults): string {
  const sections = Object.entries(r.settings).map(([system, values]) =>
    [
      `- **${system}**`,
      ...Object.entries(values).map(([k, v]) => `  - ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
    ].join('\n'),
  );
  return ['## Settings', ...sections].join('\n\n');
}

function charts(r: BenchResults, dir: string): string {
  if (r.charts.length === 0) return '';
  return ['## Charts', ...r.charts.map((file) => `![${file}](${dir}/${file})`)].join('\n\n');
}

function method(): string {
  return [
    '## Method',
    "- Closed loop: each of the N lanes starts a run and waits for its result before starting the next, until the case's count or time is reached; runs/s = completed runs ÷ wall time.",
    '- Latency: start to result of each run, recorded in an HDR histogram (hdr-histogram-js, µs, 3 significant digits).',
    "- Events per step: events appended to the Orchestron store during the case ÷ steps completed; rows per step: rows added to every table of the system's schema (Orchestron: its PostgreSQL schema or SQLite events; DBOS: the `dbos` schema) ÷ steps.",
    '- Each system is started fresh in every repetition and warmed up with a few runs before its cases. Medians are over repetitions; with a single repetition there is no spread to show.',
  ].join('\n');
}
