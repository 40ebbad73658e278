/**
 * `npm run bench:expressions`: evaluates hostile CEL expressions over large inputs and prints, for
 * each, the outcome (a value or an error code) and the longest time one evaluation held the event
 * loop. Each case is evaluated several times (the first run pays for parsing and JIT); the figure
 * is the slowest, as wall time and as CPU time (which a busy shared machine inflates less). A `monitorEventLoopDelay` histogram over the whole run is printed as a check.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { evaluateExpression } from '@orchestron/definitions';

const { values } = parseArgs({
  options: { repeat: { type: 'string', default: '5' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  process.stdout.write('Usage: npm run bench:expressions [-- --repeat N (evaluations per case, default 5)]\n');
  process.exit(0);
}
const repeat = Number(values.repeat);

// Inputs of about 4 MB of JSON each, the largest a run input may be.
const ints = Array.from({ length: 1_000_000 }, (_, i) => i % 1000);
const records = Array.from({ length: 60_000 }, (_, i) => ({ id: `r${i}`, score: i % 97, tags: ['a', 'b'] }));
const text = 'a'.repeat(4_000_000);
const flat = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, i]));
const inputs: Record<string, unknown> = { ints, records, text, flat, evil: `${'a'.repeat(30)}!`, small: [1, 2, 3] };
const bytes = (name: string): number => JSON.stringify(inputs[name]).length;

const nest = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
const doubling = (levels: number, op: (v: string) => string): string => {
  let body = `v${levels}`;
  for (let i = levels; i > 0; i--) body = `cel.bind(v${i}, ${op(`v${i - 1}`)}, ${body})`;
  return `cel.bind(v0, 'abcdefghij', ${body})`;
};

const corpus: { name: string; source: string }[] = [
  { name: 'ReDoS (a+)+$ on a short string', source: "input.evil.matches('^(a+)+$')" },
  { name: 'ReDoS (a|aa)+$ literal', source: "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches('^(a|aa)+$')" },
  { name: 'ReDoS (a*)*b on 4 MB text', source: "input.text.matches('^(a*)*b$')" },
  { name: 'ReDoS nested quantifier, matches(s, re)', source: "matches(input.text, '(a|a?)+b')" },
  { name: 'backreference (refused)', source: "input.evil.matches('(a+)\\\\1')" },
  { name: 'map over 1M ints', source: 'input.ints.map(x, x * 2)' },
  { name: 'filter over 1M ints', source: 'input.ints.filter(x, x % 2 == 0).size()' },
  { name: 'exists with no match over 1M', source: 'input.ints.exists(x, x < 0)' },
  { name: 'all over 1M', source: 'input.ints.all(x, x >= 0)' },
  {
    name: 'nested comprehension n^2',
    source: 'input.records.map(r, input.records.filter(q, q.score == r.score).size())',
  },
  { name: 'membership in a loop (x in list)', source: 'input.ints.filter(x, x in input.ints).size()' },
  { name: 'list equality of the 4 MB list', source: 'input.ints == input.ints' },
  {
    name: 'records projection (60k objects)',
    source: 'input.records.map(r, {"id": dyn(r.id), "s": dyn(r.score + 1)})',
  },
  { name: 'string concat doubling', source: doubling(20, (v) => `${v} + ${v}`) },
  { name: 'list concat doubling', source: doubling(20, (v) => `[${v}] + [${v}]`).replace("'abcdefghij'", '[1, 2, 3]') },
  { name: 'shared-list tree (DAG blowup)', source: doubling(24, (v) => `[${v}, ${v}]`) },
  { name: 'join of 1M ints as strings', source: 'input.ints.map(x, string(x)).join(",")' },
  { name: 'concat of 4 MB text', source: 'input.text + input.text' },
  { name: 'split 4 MB text', source: "input.text.split('').size()" },
  { name: 'deep nesting literal (depth 40)', source: nest(40) },
  { name: 'deep nesting literal (depth 200, parser limit)', source: nest(200) },
  { name: 'long expression (20k chars)', source: Array.from({ length: 4000 }, () => '1').join(' + ') },
  { name: 'echo the 4 MB input', source: 'input' },
  { name: 'flat object keys (200k)', source: 'input.flat.exists(k, k == "none")' },
  { name: 'contains over 4 MB text', source: "input.text.contains('b')" },
  { name: 'matches over 100k chars of the text', source: "input.text.substring(0, 100000).matches('^(a+)+$')" },
  { name: 'size of 4 MB list (cheap)', source: 'input.ints.size()' },
  {
    name: 'ordinary mapping',
    source: '{"email": dyn(input.records[0].id + "@example.com"), "n": dyn(size(input.small))}',
  },
];

const context = { input: inputs, steps: {}, run: { id: 'bench', definitionId: 'bench' } };
process.stdout.write(
  `inputs: ints ${bytes('ints')} B, records ${bytes('records')} B, text ${bytes('text')} B, flat ${bytes('flat')} B; ${repeat} evaluations per case\n\n`,
);

const histogram = monitorEventLoopDelay({ resolution: 1 });
histogram.enable();
let worst = { name: '', ms: 0 };
const rows: string[] = [];
for (const { name, source } of corpus) {
  let outcome = '';
  let slowest = 0;
  let slowestCpu = 0;
  for (let i = 0; i < repeat; i++) {
    let value: unknown;
    let failure: unknown;
    const cpu = process.cpuUsage();
    const started = performance.now();
    try {
      value = evaluateExpression(source, context);
    } catch (error) {
      failure = error;
    }
    slowest = Math.max(slowest, performance.now() - started);
    const used = process.cpuUsage(cpu);
    slowestCpu = Math.max(slowestCpu, (used.user + used.system) / 1000);
    outcome =
      failure === undefined ? `ok ${describe(value)}` : ((failure as { code?: string }).code ?? String(failure));
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (slowest > worst.ms) worst = { name, ms: slowest };
  rows.push(
    `${name.padEnd(48)} ${outcome.padEnd(28)} ${slowest.toFixed(2).padStart(8)} ms ${slowestCpu.toFixed(2).padStart(8)} ms`,
  );
}
histogram.disable();
process.stdout.write(
  `${'case'.padEnd(48)} ${'outcome'.padEnd(28)} ${'worst wall'.padStart(11)} ${'worst cpu'.padStart(11)}\n${rows.join('\n')}\n\n`,
);
process.stdout.write(
  "wall: time the evaluation held the event loop; cpu: the process's CPU time over it (it differs when the machine is shared)\n",
);
process.stdout.write(`worst single evaluation: ${worst.ms.toFixed(2)} ms (${worst.name})\n`);
process.stdout.write(
  `event-loop delay over the run: max ${(histogram.max / 1e6).toFixed(2)} ms, p99 ${(histogram.percentile(99) / 1e6).toFixed(2)} ms\n`,
);

/** Short, and cheap: stringifying a 4 MB echo would itself hold the loop the histogram watches. */
function describe(value: unknown): string {
  if (Array.isArray(value)) return `list of ${value.length}`;
  if (value !== null && typeof value === 'object') return `map of ${Object.keys(value).length} keys`;
  const json = JSON.stringify(value) ?? 'undefined';
  return json.length > 24 ? `${json.slice(0, 16)}… (${json.length} B)` : json;
}
