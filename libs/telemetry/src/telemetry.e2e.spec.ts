import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spanIdForRun, traceIdForRun } from './trace-ids.ts';
import { readTraceFile } from './testing/index.ts';

const run = promisify(execFile);
const FIXTURE = new URL('./e2e-service.fixture.ts', import.meta.url).pathname;
const ROOT = new URL('../../../', import.meta.url).pathname;

/** The collector as the stack script runs it: its own process, port chosen by the OS, read from its first line. */
async function startCollectorProcess(out: string): Promise<{ url: string; child: ChildProcessWithoutNullStreams }> {
  const child = spawn(process.execPath, ['tools/otlp-file-collector.ts', '--port', '0', '--out', out], { cwd: ROOT });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) resolve(match[1] as string);
    });
    child.stderr.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    child.once('exit', (code) =>
      reject(new Error(`the collector exited with ${String(code)} before listening: ${seen}`)),
    );
  });
  return { url, child };
}

describe('one run traced across processes', () => {
  let dir: string;
  let collector: { url: string; child: ChildProcessWithoutNullStreams };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestron-telemetry-e2e-'));
    collector = await startCollectorProcess(join(dir, 'traces.ndjson'));
  });
  afterAll(async () => {
    if (collector.child.exitCode === null) {
      const exited = new Promise((resolve) => collector.child.once('exit', resolve));
      collector.child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('lands the spans of two services in one trace, logs carry its id, and trace-show draws it', async () => {
    const runId = `e2e-${process.pid}-${Date.now()}`;
    const { NODE_OPTIONS: _jestVmModules, ...inherited } = process.env;
    const env = { ...inherited, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url };
    const api = await run(process.execPath, [FIXTURE, 'start', 'api', 'api-1', runId], { cwd: ROOT, env });
    const headers = JSON.parse(api.stdout) as { traceparent: string };
    const worker = await run(process.execPath, [FIXTURE, 'handle', 'worker', 'worker-1', runId, headers.traceparent], {
      cwd: ROOT,
      env,
    });

    const traceId = traceIdForRun(runId);
    const spans = (await readTraceFile(join(dir, 'traces.ndjson'))).filter((span) => span.traceId === traceId);
    const byName = new Map(spans.map((span) => [span.name, span]));
    expect([...byName.keys()].sort()).toEqual(['api.start-run', 'timer.fire', 'worker.handle']);
    const started = byName.get('api.start-run');
    expect(started).toMatchObject({ service: 'api', instance: 'api-1', parentSpanId: spanIdForRun(runId) });
    expect(headers.traceparent).toBe(`00-${traceId}-${started?.spanId}-01`);
    expect(byName.get('worker.handle')).toMatchObject({
      service: 'worker',
      instance: 'worker-1',
      kind: 'consumer',
      parentSpanId: started?.spanId,
    });
    expect(byName.get('timer.fire')).toMatchObject({ service: 'worker', parentSpanId: spanIdForRun(runId) });

    const logs = `${api.stderr}${worker.stderr}`
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs.map((line) => [line.service, line.msg, line.runId, line.traceId])).toEqual([
      ['api', 'run started', runId, traceId],
      ['worker', 'step handled', runId, traceId],
      ['worker', 'timer fired', runId, traceId],
    ]);

    const shown = await run(process.execPath, ['tools/trace-show.ts', join(dir, 'traces.ndjson'), '--run', runId], {
      cwd: ROOT,
    });
    const lines = shown.stdout.trim().split('\n');
    expect(lines[0]).toBe(`trace ${traceId} (run ${runId}): 3 spans`);
    expect(lines[1]).toBe(`run ${runId} (the run's root ${spanIdForRun(runId)}: not a span)`);
    expect(lines.slice(2, -1).map((line) => line.replace(/ [\d.]+ m?s @\+[\d.]+ m?s$/, ''))).toEqual([
      '├─ api.start-run (server) [api/api-1]',
      '│  └─ worker.handle (consumer) [worker/worker-1]',
      '└─ timer.fire [worker/worker-1]',
    ]);
    expect(lines.at(-1)).toBe('spans per service: api 1, worker 2');
  });

  it('trace-show exits 1 for a run with no spans, and 2 with usage for bad arguments', async () => {
    await expect(
      run(process.execPath, ['tools/trace-show.ts', join(dir, 'traces.ndjson'), '--run', 'no-such-run'], { cwd: ROOT }),
    ).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining('no spans for trace') });
    await expect(run(process.execPath, ['tools/trace-show.ts'], { cwd: ROOT })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('give the trace file'),
    });
  });
});
