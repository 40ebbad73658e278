import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { GovernanceRequest } from '@orchestron/policy';
import type { Logger } from '@orchestron/runtime';
import { PolicyStore } from './policy-store.ts';
import type { PolicyReload } from './policy-store.ts';

const ALLOW_ALL = '@id("allow-all")\npermit (principal, action, resource);\n';
const FORBID_EXPORT =
  '@id("no-export")\n@reason("exports are off")\nforbid (principal, action, resource)\nwhen { resource has action && resource.action == "export" };\n';

function request(action: string): GovernanceRequest {
  return {
    runId: 'run-1',
    definitionId: 'def',
    definitionVersion: 1,
    stepId: 'step',
    worker: 'w',
    action,
    input: {},
    runInput: {},
    now: Date.UTC(2025, 0, 7, 10),
  };
}

interface Logged {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

function recordingLogger(): Logger & { lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push({ level, message, fields });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

const dirs: string[] = [];
const stores: PolicyStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function policyDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'orchestron-policies-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A watched store, and a way to wait for the reload a test expects (editors and inotify may cause more than one). */
function watchedStore(
  dir: string,
  logger: Logger,
): { store: PolicyStore; reloaded: (match: (reload: PolicyReload) => boolean) => Promise<PolicyReload> } {
  const reloads: PolicyReload[] = [];
  const store = new PolicyStore({ dir, logger, debounceMs: 30, onReload: (reload) => reloads.push(reload) });
  stores.push(store);
  store.watch();
  const reloaded = async (match: (reload: PolicyReload) => boolean): Promise<PolicyReload> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const found = reloads.find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline)
        throw new Error(
          `no matching reload within 5 s; saw ${JSON.stringify(reloads.map((r) => (r.ok ? r.policyIds : r.error.message)))}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { store, reloaded };
}

describe('PolicyStore', () => {
  it('loads every *.cedar file of the directory in name order, ignoring other files', () => {
    const dir = policyDir({ 'b.cedar': FORBID_EXPORT, 'a.cedar': ALLOW_ALL, 'notes.txt': 'not cedar' });
    const store = new PolicyStore({ dir, logger: recordingLogger() });
    expect(store.policyIds()).toEqual(['allow-all', 'no-export']);
    expect(store.engine().evaluate(request('export'))).toMatchObject({
      outcome: 'deny',
      policyId: 'no-export',
      reason: 'exports are off',
    });
  });

  it('keeps the policies in force when the directory is emptied: no policies would allow every step', () => {
    const dir = policyDir({ 'a.cedar': ALLOW_ALL, 'b.cedar': FORBID_EXPORT });
    const store = new PolicyStore({ dir, logger: recordingLogger() });
    rmSync(join(dir, 'a.cedar'));
    rmSync(join(dir, 'b.cedar'));
    expect(store.reload()).toBe(false);
    expect(store.policyIds()).toEqual(['allow-all', 'no-export']);
    expect(store.engine().evaluate(request('export'))).toMatchObject({ outcome: 'deny', policyId: 'no-export' });
  });

  it('refuses to start on a missing directory or on policies that do not compile', () => {
    expect(() => new PolicyStore({ dir: join(tmpdir(), 'orchestron-no-such-dir'), logger: recordingLogger() })).toThrow(
      /orchestron-no-such-dir does not exist .*ORCHESTRON_POLICIES/,
    );
    const dir = policyDir({ 'broken.cedar': 'permit (principal, action, resource)' });
    expect(() => new PolicyStore({ dir, logger: recordingLogger() })).toThrow(/broken\.cedar:1/);
  });

  it('decides with a new policy after a file is added', async () => {
    // Given a store that allows everything
    const dir = policyDir({ 'a.cedar': ALLOW_ALL });
    const { store, reloaded } = watchedStore(dir, recordingLogger());
    expect(store.engine().evaluate(request('export')).outcome).toBe('allow');
    // When a forbid is written into the directory
    writeFileSync(join(dir, 'b.cedar'), FORBID_EXPORT);
    await reloaded((r) => r.ok && r.policyIds.includes('no-export'));
    // Then the next decision follows it
    expect(store.policyIds()).toEqual(['allow-all', 'no-export']);
    expect(store.engine().evaluate(request('export'))).toMatchObject({ outcome: 'deny', policyId: 'no-export' });
    expect(store.engine().evaluate(request('import')).outcome).toBe('allow');
  });

  it('keeps the previous policies after a broken edit, and logs the file and the Cedar problem', async () => {
    // Given a store denying exports
    const dir = policyDir({ 'a.cedar': ALLOW_ALL, 'b.cedar': FORBID_EXPORT });
    const logger = recordingLogger();
    const { store, reloaded } = watchedStore(dir, logger);
    // When the forbid is edited into invalid Cedar
    writeFileSync(
      join(dir, 'b.cedar'),
      '@id("no-export")\nforbid (principal, action, resource)\nwhen { resource.action == };\n',
    );
    const failed = await reloaded((r) => !r.ok);
    // Then the old set still decides
    expect(failed).toMatchObject({ ok: false, keptPolicyIds: ['allow-all', 'no-export'] });
    expect(store.policyIds()).toEqual(['allow-all', 'no-export']);
    expect(store.engine().evaluate(request('export'))).toMatchObject({ outcome: 'deny', policyId: 'no-export' });
    // And the error names the file, the line and what Cedar found wrong
    const logged = logger.lines.find((line) => line.level === 'error');
    expect(logged?.message).toBe('policy reload failed; the previous policies stay in force');
    expect(logged?.fields?.['error']).toMatch(/b\.cedar:3: /);
    expect(logged?.fields?.['problems']).toEqual([
      expect.objectContaining({ file: 'b.cedar', line: 3, message: expect.stringMatching(/unexpected token/i) }),
    ]);

    // When the edit is fixed, the fixed set takes over
    writeFileSync(
      join(dir, 'b.cedar'),
      FORBID_EXPORT.replace('"export"', '"delete"').replace('no-export', 'no-delete'),
    );
    await reloaded((r) => r.ok && r.policyIds.includes('no-delete'));
    expect(store.engine().evaluate(request('export')).outcome).toBe('allow');
    expect(store.engine().evaluate(request('delete')).outcome).toBe('deny');
  });
});
