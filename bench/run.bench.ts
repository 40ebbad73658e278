/**
 * `npm run bench`: Orchestron (embedded, and the production stack with 1 and 2 orchestrators) beside Restate and
 * DBOS, with the floors (one PostgreSQL commit, one SQLite append, one Kafka hop), on the same workloads, interleaved
 * over repetitions. `npm run bench -- --help` for the options; docs/benchmarks.md for the method.
 */
import { describeEnvironment } from './harness/environment.ts';
import { HELP, parseOptions } from './harness/options.ts';
import { buildPlan } from './harness/plan.ts';
import { createProgress } from './harness/progress.ts';
import { writeReport } from './harness/report.ts';
import { runBench } from './harness/runner.ts';

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
  process.exit(2);
}
if (options === null) {
  process.stdout.write(HELP);
  process.exit(0);
}

const plan = buildPlan(options);
const startedAt = new Date().toISOString();
const environment = await describeEnvironment();
process.stdout.write(
  `bench: ${plan.quick ? 'quick' : 'full'} run, ${plan.reps} repetition(s) of ${plan.systems.join(', ')}; ` +
    `${plan.cases.length} cases; node ${process.version}, ${environment.machine.cpus} CPUs\n`,
);
const { measurements, settings } = await runBench(plan, options.workDir, createProgress());
const report = writeReport(options.out, {
  plan,
  startedAt,
  finishedAt: new Date().toISOString(),
  environment,
  settings,
  measurements,
});
const failed = measurements.filter((m) => m.status === 'error');
// The header and the headline of latest.md; the rest is in the file.
const [head, ...sections] = report.markdown.split('\n## ');
const headline = sections.find((section) => section.startsWith('Headline'));
process.stdout.write(`\n${head ?? ''}${headline ? `\n## ${headline}` : ''}\n`);
process.stdout.write(
  `bench: wrote ${report.jsonFile}\n       ${report.markdownFile}\n       ${report.results.charts.length} charts in ${options.out}/charts\n`,
);
if (failed.length > 0) {
  process.stdout.write(
    `bench: ${failed.length} measurement(s) failed: ${failed.map((m) => `${m.system} ${m.caseId}`).join(', ')}\n`,
  );
  process.exitCode = 1;
}
