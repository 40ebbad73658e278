import { describe, expect, it } from '@jest/globals';
import { runCli } from '../cli.ts';
import type { CliDeps } from '../cli.context.ts';

/** The CLI in-process: these cases end before any broker is contacted. */
function cli(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const deps: CliDeps = {
    io: { out: (l) => out.push(l), err: (l) => err.push(l), colour: false },
    env,
    cwd: '/',
    now: () => 0,
    sleep: async () => undefined,
    fetch: async () => {
      throw new Error('worker-check does not call the server');
    },
  };
  return { out, err, run: (...args: string[]) => runCli(['worker-check', ...args], deps) };
}

describe('orchestron worker-check', () => {
  it('explains what it checks and what the worker must do, and exits 0', async () => {
    const c = cli();
    expect(await c.run('--help')).toBe(0);
    const help = c.out.join('\n');
    for (const scenario of [
      'execute',
      'duplicate',
      'duplicate-in-flight',
      'stale-attempt',
      'past-deadline',
      'compensate',
      'heartbeats',
    ])
      expect(help).toMatch(new RegExp(`^ {2}${scenario} +\\S`, 'm'));
    expect(help).toContain('"worker-check"');
    expect(help).toContain('{"nonce": <the input\'s nonce>, "execution": <a string new for each execution');
    expect(help).toContain('examples/workers/kcat-worker.sh');
    expect(help).toContain('--topic-prefix');
  });

  it.each([
    [['--worker', 'w', '--timeout-ms', '5s'], '--timeout-ms must be a whole number of ms from 100 to 600000, not "5s"'],
    [['--worker', 'w', '--timeout-ms', '99'], '--timeout-ms must be a whole number of ms from 100 to 600000, not "99"'],
    [['--worker', 'a/b'], '--worker must be letters, digits, ".", "_" or "-" (it names a topic), not "a/b"'],
    [
      ['--worker', 'w', '--scenario', 'duplicate', 'teleport'],
      '--scenario: no scenario "teleport"; known: execute, duplicate',
    ],
    [
      ['--worker', 'w', '--topic-prefix', 'bad prefix'],
      '--topic-prefix: ORCHESTRON_TOPIC_PREFIX "bad prefix" may hold only',
    ],
  ])('exits 2 naming the bad option: %j', async (args, message) => {
    const c = cli();
    expect(await c.run(...args)).toBe(2);
    expect(c.err.join('\n')).toContain(message);
  });

  it('exits 2 without --worker', async () => {
    const c = cli();
    expect(await c.run()).toBe(2);
    expect(c.err.join('\n')).toContain("required option '--worker <name>' not specified");
  });

  it('exits 2 for a partition count it cannot use', async () => {
    const c = cli({ ORCHESTRON_KAFKA_PARTITIONS: '0' });
    expect(await c.run('--worker', 'w')).toBe(2);
    expect(c.err.join('\n')).toContain('ORCHESTRON_KAFKA_PARTITIONS must be a whole number from 1 to 1000, not "0"');
  });

  it('exits 4 naming the brokers when no broker answers', async () => {
    const c = cli();
    // Port 1: nothing listens there, so the connection is refused at once.
    expect(await c.run('--worker', 'w', '--brokers', '127.0.0.1:1')).toBe(4);
    expect(c.err.join('\n')).toContain('cannot reach Kafka at 127.0.0.1:1');
  });
});
