// Prints a trace from the file collector's NDJSON as a tree: which service did what, when, and for how long.
import { parseArgs } from 'node:util';
import { traceIdForRun } from '@orchestron/telemetry';
import { listTraces, readTraceFile, renderTrace } from '@orchestron/telemetry/testing';

const USAGE = `usage: node tools/trace-show.ts <file> [--run <runId> | --trace <traceId>]

Prints one trace as an indented tree (span name, kind, [service/instance], duration, start offset) and a line
counting spans per service. --run finds the run's trace by its derived trace id. With neither option, lists the
traces in the file. Exits 1 when the trace has no spans in the file.
`;

function fail(message: string): never {
  process.stderr.write(`trace-show: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      run: { type: 'string' },
      trace: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const { values, positionals } = parsed;
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (positionals.length !== 1)
  fail(
    positionals.length === 0
      ? 'give the trace file (e.g. .orchestron/traces.ndjson)'
      : `one file only, got ${positionals.join(' ')}`,
  );
if (values.run !== undefined && values.trace !== undefined) fail('give --run or --trace, not both');
if (values.trace !== undefined && !/^[0-9a-f]{32}$/.test(values.trace))
  fail(`--trace must be 32 lower-case hex digits, got "${values.trace}"`);

try {
  const spans = await readTraceFile(positionals[0] as string);
  if (values.run === undefined && values.trace === undefined) {
    process.stdout.write(`${listTraces(spans)}\n`);
  } else {
    const traceId = values.trace ?? traceIdForRun(values.run as string);
    const found = spans.some((span) => span.traceId === traceId);
    process.stdout.write(`${renderTrace(spans, traceId, values.run)}\n`);
    if (!found) process.exit(1);
  }
} catch (error) {
  process.stderr.write(`trace-show: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
