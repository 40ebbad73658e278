import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const CYCLE = `
id: cyclic
version: 1
steps:
  a: { worker: w, needs: [c] }
  b: { worker: w, needs: [a] }
  c: { worker: w, needs: [b] }
`;

function orchestron(...args: string[]) {
  // NODE_OPTIONS from the Jest run (--experimental-vm-modules) would only add warnings to the child's output.
  const env = { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' };
  return spawnSync(process.execPath, [join(repoRoot, 'bin/orchestron.mjs'), ...args], {
    cwd: repoRoot,
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('orchestron validate (child process)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestron-validate-'));
    writeFileSync(join(dir, 'cycle.yaml'), CYCLE);
    writeFileSync(join(dir, 'broken.yaml'), 'id: x\nsteps: [\n');
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [i, name] of [...'bcdefghi'].entries())
      bomb.push(`${name}: &${name} [${Array(9).fill(`*${'abcdefghi'[i]}`)}]`);
    writeFileSync(join(dir, 'bomb.yaml'), bomb.join('\n'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 2 and names the cycle for a definition whose steps depend on each other', () => {
    const result = orchestron('validate', join(dir, 'cycle.yaml'));
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/\/steps\/\w\/needs: dependency cycle: (\w → ){3}\w/);
    expect(result.stderr).toContain('DEFINITION.INVALID');
    expect(result.stdout).toBe('');
  });

  it('prints {"error":…} with every issue as the last line with --json', () => {
    const result = orchestron('validate', join(dir, 'cycle.yaml'), '--json');
    expect(result.status).toBe(2);
    const last = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as {
      error: { code: string; details: { issues: { path: string; message: string }[] } };
    };
    expect(last.error.code).toBe('DEFINITION.INVALID');
    expect(last.error.details.issues.some((i) => i.message.startsWith('dependency cycle'))).toBe(true);
  });

  it('exits 2 with the YAML error for a syntax error', () => {
    const result = orchestron('validate', join(dir, 'broken.yaml'));
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/\/: YAML \w+: .* at line \d+, column \d+/);
  });

  it('exits 2, not 4, for a YAML alias bomb, and says what it refused', () => {
    const result = orchestron('validate', join(dir, 'bomb.yaml'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('DEFINITION.INVALID');
    expect(result.stderr).toMatch(/\/: YAML refused: Excessive alias count .* \(at most 50 alias expansions\)/);
  });

  it('exits 0 for the onboarding example, with no server', () => {
    const result = orchestron('validate', 'examples/employee-onboarding.yaml', '--url', 'http://127.0.0.1:9');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^valid: examples\/employee-onboarding\.yaml \(employee-onboarding v1, 6 steps\)/);
  });

  it('exits 2 for an unknown option or a missing file', () => {
    expect(orchestron('validate', '--nope', 'x.yaml').status).toBe(2);
    const missing = orchestron('validate', join(dir, 'missing.yaml'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*missing\.yaml: ENOENT/);
  });
});
