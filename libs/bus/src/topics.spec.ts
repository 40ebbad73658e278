import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { topicNames, validateTopicPrefix } from './topics.ts';

describe('topic and group names', () => {
  it('without a prefix, are the names every deployment has always used', () => {
    // Given no prefix / When names are made / Then they are unchanged
    const names = topicNames();
    expect([
      names.workflowStarts,
      names.stepEvents,
      names.governanceRequests,
      names.governanceDecisions,
      names.operatorCommands,
      names.deadLetters,
      names.commands('mail'),
      names.group('orchestron-orchestrator'),
    ]).toEqual([
      'orchestron.workflow.starts',
      'orchestron.step.events',
      'orchestron.governance.requests',
      'orchestron.governance.decisions',
      'orchestron.operator.commands',
      'orchestron.dlq',
      'orchestron.commands.mail',
      'orchestron-orchestrator',
    ]);
  });

  it('with a prefix, put it in front of every topic and every group', () => {
    // Given the prefix acme.
    const names = topicNames('acme.');
    // When names are made / Then each starts with it
    expect(names.stepEvents).toBe('acme.orchestron.step.events');
    expect(names.deadLetters).toBe('acme.orchestron.dlq');
    expect(names.commands('identity')).toBe('acme.orchestron.commands.identity');
    expect(names.group('orchestron-orchestrator')).toBe('acme.orchestron-orchestrator');
    const all = [
      names.workflowStarts,
      names.stepEvents,
      names.governanceRequests,
      names.governanceDecisions,
      names.operatorCommands,
      names.deadLetters,
    ];
    expect(all.every((topic) => topic.startsWith('acme.orchestron.'))).toBe(true);
  });

  it('refuse a prefix with characters Kafka does not allow in a topic, naming ORCHESTRON_TOPIC_PREFIX', () => {
    for (const bad of ['acme/', 'a b.', 'ünï.', 'x:']) {
      expect(() => topicNames(bad)).toThrow(
        /^ORCHESTRON_TOPIC_PREFIX ".*" may hold only letters, digits, "\.", "_" and "-"/,
      );
    }
    expect(validateTopicPrefix('Team_1-prod.')).toBe('Team_1-prod.');
  });

  it('refuse a prefix that makes the longest topic longer than 249 characters, and accept one that just fits', () => {
    const fits = 'p'.repeat(249 - 'orchestron.governance.decisions'.length);
    expect(topicNames(fits).governanceDecisions).toHaveLength(249);
    expect(() => topicNames(`${fits}x`)).toThrow(
      /^ORCHESTRON_TOPIC_PREFIX is 219 characters long: with it, orchestron\.governance\.decisions would be 250, over Kafka's 249/,
    );
  });
});

describe('Topics: the prefix this process was started with', () => {
  const INDEX = new URL('./index.ts', import.meta.url).pathname;
  const run = (prefix: string) =>
    spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { Topics } = await import(${JSON.stringify(INDEX)}); console.log(Topics.stepEvents, Topics.group('orchestron-governance'))`,
      ],
      { env: { ...process.env, ORCHESTRON_TOPIC_PREFIX: prefix }, encoding: 'utf8' },
    );

  it('comes from ORCHESTRON_TOPIC_PREFIX', () => {
    const started = run('acme.');
    expect(started.stdout.trim()).toBe('acme.orchestron.step.events acme.orchestron-governance');
  });

  it('stops the process with the reason when ORCHESTRON_TOPIC_PREFIX is not valid', () => {
    const started = run('acme/');
    expect(started.status).not.toBe(0);
    expect(started.stderr).toContain('ORCHESTRON_TOPIC_PREFIX "acme/" may hold only letters');
  });
});
