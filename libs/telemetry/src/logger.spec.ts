import { jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, isSecretKey, REDACTED } from './logger.ts';
import { withSpan } from './spans.ts';
import { startTracing } from './tracing.ts';
import { startOtlpFileCollector, type OtlpFileCollector } from './testing/index.ts';

function capture(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: 'orchestrator',
    instance: 'orchestrator-1',
    sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { lines, logger };
}

describe('createLogger', () => {
  let dir: string;
  let collector: OtlpFileCollector;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestron-logger-'));
    collector = await startOtlpFileCollector({ port: 0, out: join(dir, 'traces.ndjson') });
  });
  afterAll(async () => {
    await collector.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes debug lines only when asked for (option or ORCHESTRON_LOG_LEVEL=debug)', () => {
    const lines: string[] = [];
    const sink = (line: string) => lines.push(line);
    createLogger({ service: 's', sink }).debug?.('quiet by default');
    createLogger({ service: 's', sink, level: 'info' }).debug?.('quiet at info');
    expect(lines).toEqual([]);
    createLogger({ service: 's', sink, level: 'debug' }).debug?.('report ignored', { reason: 'attempt_settled' });
    const before = process.env.ORCHESTRON_LOG_LEVEL;
    process.env.ORCHESTRON_LOG_LEVEL = 'debug';
    try {
      createLogger({ service: 's', sink }).debug?.('from the environment');
    } finally {
      if (before === undefined) delete process.env.ORCHESTRON_LOG_LEVEL;
      else process.env.ORCHESTRON_LOG_LEVEL = before;
    }
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'debug', msg: 'report ignored', reason: 'attempt_settled' }),
      expect.objectContaining({ level: 'debug', msg: 'from the environment' }),
    ]);
  });

  it('writes one JSON line per call with the run fields at the top level', () => {
    const { lines, logger } = capture();
    logger.warn('step timed out', { runId: 'r-1', stepId: 'charge', attempt: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: 'warn',
      service: 'orchestrator',
      instance: 'orchestrator-1',
      msg: 'step timed out',
      runId: 'r-1',
      stepId: 'charge',
      attempt: 2,
    });
  });

  it('adds traceId and spanId inside a span, and leaves them out outside one', async () => {
    const tracing = startTracing({
      serviceName: 'orchestrator',
      endpoint: collector.url,
      logger: { warn: () => undefined, error: () => undefined },
    });
    try {
      const { lines, logger } = capture();
      logger.info('before');
      const ids = await withSpan('dispatch', { runId: 'logger-spec-run' }, (span) => {
        logger.info('inside', { runId: 'logger-spec-run' });
        return span.spanContext();
      });
      logger.info('after');
      expect(lines.map((line) => [line.msg, line.traceId, line.spanId])).toEqual([
        ['before', undefined, undefined],
        ['inside', ids.traceId, ids.spanId],
        ['after', undefined, undefined],
      ]);
    } finally {
      await tracing.shutdown();
    }
  });

  it('never writes the values of keys named like secrets, at any depth', () => {
    const { lines, logger } = capture();
    logger.error('call failed', {
      authorization: 'Bearer abc',
      apiKey: 'sk-live-1',
      password: 'hunter2',
      token: 't0k3n',
      secret: 's3cr3t',
      request: {
        headers: { Authorization: 'Basic xyz', 'x-api-key': 'k-2', cookie: 'sid=1' },
        body: [{ client_secret: 'cs', accessToken: 'at' }],
      },
      tokenUsage: { inputTokens: 120, maxTokens: 4000 },
      runId: 'r-9',
    });
    const text = JSON.stringify(lines[0]);
    for (const secret of [
      'Bearer abc',
      'sk-live-1',
      'hunter2',
      't0k3n',
      's3cr3t',
      'Basic xyz',
      'k-2',
      'sid=1',
      '"cs"',
      '"at"',
    ])
      expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      authorization: REDACTED,
      apiKey: REDACTED,
      password: REDACTED,
      token: REDACTED,
      secret: REDACTED,
      request: {
        headers: { Authorization: REDACTED, 'x-api-key': REDACTED, cookie: REDACTED },
        body: [{ client_secret: REDACTED, accessToken: REDACTED }],
      },
      tokenUsage: { inputTokens: 120, maxTokens: 4000 },
      runId: 'r-9',
    });
  });

  it('tells secret-looking keys from token counts', () => {
    expect(
      [
        'Authorization',
        'proxy-authorization',
        'OPENAI_API_KEY',
        'dbPassword',
        'refresh_token',
        'webhookSecret',
        'secretAccessKey',
        'privateKey',
      ].filter((key) => !isSecretKey(key)),
    ).toEqual([]);
    expect(
      ['tokenUsage', 'inputTokens', 'maxTokens', 'runId', 'stepId', 'attempt', 'key', 'idempotencyKey'].filter(
        isSecretKey,
      ),
    ).toEqual([]);
  });

  it('keeps its own fields from being forged, and serializes errors, bigints and cycles', () => {
    const { lines, logger } = capture();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const error = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    logger.info('real message', { msg: 'forged', level: 'fatal', error, offset: 12n, cyclic });
    expect(lines[0]).toMatchObject({
      msg: 'real message',
      level: 'info',
      'field.msg': 'forged',
      'field.level': 'fatal',
      offset: '12',
      cyclic: { name: 'loop', self: '[circular]' },
    });
    expect(lines[0]?.error).toMatchObject({ name: 'Error', message: 'refused', code: 'ECONNREFUSED' });
  });

  it('still writes the line when a field cannot be serialized', () => {
    const { lines, logger } = capture();
    logger.info('odd field', {
      weird: {
        toJSON: () => {
          throw new Error('no json for you');
        },
      },
    });
    expect(lines[0]).toMatchObject({ msg: 'odd field', logError: 'fields could not be serialized: no json for you' });
  });

  it('writes the lines of one tick to stderr in one write, in order, by default', async () => {
    const writes: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const logger = createLogger({ service: 'svc' });
      logger.info('one');
      logger.warn('two');
      logger.error('three');
      expect(writes).toEqual([]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(writes).toHaveLength(1);
      expect(
        writes[0]
          ?.trimEnd()
          .split('\n')
          .map((line) => (JSON.parse(line) as { msg: string }).msg),
      ).toEqual(['one', 'two', 'three']);
    } finally {
      write.mockRestore();
    }
  });
});
