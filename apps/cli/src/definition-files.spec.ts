import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli.ts';
import type { CliDeps } from './cli.context.ts';

/* Definition files the parser refuses are bad input (exit 2, DEFINITION.INVALID), never a CLI crash (exit 4). */

/** Nine aliases of nine aliases, nine levels deep: 9^9 strings once expanded. */
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((name, i) => `${name}: &${name} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');

const FILES: Record<string, string> = {
  'bomb.yaml': ALIAS_BOMB,
  'deep.yaml': `id: deep\nversion: 1\nsteps: ${'['.repeat(200)}${']'.repeat(200)}\n`,
  'deeper.yaml': `id: deeper\nversion: 1\nsteps: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
  'deep.json': `{"id":"deep","version":1,"steps":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
  'proto.json': '{"id":"p","version":1,"steps":{"a":{"worker":"w","__proto__":{"admin":true}}}}',
  'unknown-identifier.yaml': 'id: x\nversion: 1\nsteps:\n  a: { worker: w, when: "${{ process.env.HOME == \'\' }}" }\n',
};

function cli(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const requests: string[] = [];
  const deps: CliDeps = {
    io: { out: (l) => out.push(l), err: (l) => err.push(l), colour: false },
    env: { ORCHESTRON_API_KEY: 'k-1' },
    cwd,
    now: () => 0,
    sleep: async () => undefined,
    fetch: async (url) => {
      requests.push(url);
      throw new Error('no server in this test');
    },
  };
  return { out, err, requests, run: (...args: string[]) => runCli(args, deps) };
}

describe('definition files the parser refuses', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestron-hostile-'));
    for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['bomb.yaml', 'YAML refused: Excessive alias count'],
    ['deep.yaml', 'nests deeper than 64 levels'],
    ['deeper.yaml', /YAML RESOURCE_EXHAUSTION|nests deeper/],
    ['deep.json', 'nests deeper than 64 levels'],
    ['proto.json', 'the key "__proto__" is not allowed'],
    ['unknown-identifier.yaml', 'reads unknown identifier "process"'],
  ])('validate %s exits 2 and says why', async (file, reason) => {
    const t = cli(dir);
    expect(await t.run('validate', file)).toBe(2);
    expect(t.err[0]).toMatch(new RegExp(`^error: DEFINITION.INVALID: ${file.replace('.', '\\.')} is invalid`));
    expect(t.err.join('\n')).toMatch(reason);
    expect(t.out).toEqual([]);
  });

  it('run with an alias bomb exits 2 before calling the server', async () => {
    const t = cli(dir);
    expect(await t.run('run', join(dir, 'bomb.yaml'), '--json')).toBe(2);
    expect(t.requests).toEqual([]);
    expect(JSON.parse(t.out.at(-1) ?? '')).toMatchObject({
      error: {
        code: 'DEFINITION.INVALID',
        details: { issues: [{ path: '', message: expect.stringContaining('Excessive alias count') }] },
      },
    });
  });
});
