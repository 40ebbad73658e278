/** `schedules:` in a definition: what is accepted, and every problem reported at its path. */
import { describe, expect, it } from '@jest/globals';
import { compileDefinition } from './compile.ts';
import { definitionIssues } from './validate.ts';

const definition = (schedules: unknown, id = 'report') => ({
  id,
  version: 1,
  steps: { build: { worker: 'reports' } },
  schedules,
});

describe('schedules in a definition', () => {
  it('compiles named rules with their policies and input, and leaves them out when there are none', () => {
    const compiled = compileDefinition(
      definition({
        nightly: { cron: '0 2 * * *', timezone: 'Europe/Paris', input: { region: 'eu' }, overlap: 'buffer_one' },
        'every-second': { cron: '* * * * * *', timezone: 'UTC', catchUp: 'all', maxCatchUp: 100 },
      }),
    );
    expect(compiled.schedules).toEqual({
      nightly: { cron: '0 2 * * *', timezone: 'Europe/Paris', input: { region: 'eu' }, overlap: 'buffer_one' },
      'every-second': { cron: '* * * * * *', timezone: 'UTC', catchUp: 'all', maxCatchUp: 100 },
    });
    expect('schedules' in compileDefinition({ id: 'r', version: 1, steps: { a: { worker: 'w' } } })).toBe(false);
  });

  it.each([
    [{ n: { cron: '61 * * * *', timezone: 'UTC' } }, '/schedules/n/cron', /Invalid value for minute: 61/],
    [{ n: { cron: '0 0 30 2 *', timezone: 'UTC' } }, '/schedules/n/cron', /never fires/],
    [{ n: { cron: '@daily', timezone: 'Mars/Olympus' } }, '/schedules/n/timezone', /"Mars\/Olympus" is not one/],
    [{ n: { cron: '@daily', timezone: '+02:00' } }, '/schedules/n/timezone', /IANA time zone/],
    [{ n: { cron: '@daily' } }, '/schedules/n/timezone', /missing required field "timezone"/],
    [
      { n: { cron: '@daily', timezone: 'UTC', overlap: 'never' } },
      '/schedules/n/overlap',
      /"skip", "buffer_one", "allow"/,
    ],
    [{ n: { cron: '@daily', timezone: 'UTC', maxCatchUp: 101 } }, '/schedules/n/maxCatchUp', /100/],
    [{ n: { cron: '@daily', timezone: 'UTC', every: '1d' } }, '/schedules/n/every', /unknown field "every"/],
    [{ 'Bad Name': { cron: '@daily', timezone: 'UTC' } }, '/schedules', /Bad Name|pattern/],
  ])('refuses %j at %s', (schedules, path, message) => {
    const issues = definitionIssues(definition(schedules));
    const issue = issues.find((i) => i.path === path);
    expect({ issues, found: issue !== undefined }).toMatchObject({ found: true });
    expect(issue?.message).toMatch(message);
  });

  it('refuses more than 20 schedules, and a name that makes the schedule id longer than 64 characters', () => {
    const many = Object.fromEntries(
      Array.from({ length: 21 }, (_, i) => [`s${i}`, { cron: '@daily', timezone: 'UTC' }]),
    );
    expect(definitionIssues(definition(many)).map((i) => i.path)).toContain('/schedules');
    const long = definitionIssues(
      definition({ ['n'.repeat(32)]: { cron: '@daily', timezone: 'UTC' } }, 'r'.repeat(40)),
    );
    expect(long).toContainEqual({
      path: `/schedules/${'n'.repeat(32)}`,
      message: expect.stringMatching(/over 64 characters/),
    });
  });
});
