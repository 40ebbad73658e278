import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { currentOwner, ownerIsGone, parseOwner } from './process-owner.ts';

describe('process owners', () => {
  const self = currentOwner();

  it('names this process by host, boot, pid and start time', () => {
    expect(self.pid).toBe(process.pid);
    expect(self.host.length).toBeGreaterThan(0);
    if (process.platform === 'linux') {
      expect(self.boot).toMatch(/^[0-9a-f-]{36}$/);
      expect(self.start).toMatch(/^\d+$/);
    }
  });

  it('counts this process as alive, and a process that has exited as gone', () => {
    expect(ownerIsGone(self)).toBe(false);
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    expect(ownerIsGone({ ...self, pid: Number(child.stdout), start: '1' })).toBe(true);
  });

  it('counts an earlier process under this pid, or one of an earlier boot, as gone', () => {
    if (process.platform !== 'linux') return;
    expect(ownerIsGone({ ...self, start: `${Number(self.start) - 1}` })).toBe(true);
    expect(ownerIsGone({ ...self, boot: '00000000-0000-0000-0000-000000000000' })).toBe(true);
  });

  it('counts a process that has exited but is not reaped yet (a zombie) as gone', async () => {
    if (process.platform !== 'linux') return;
    // `sleep 0.1` exits as the child of a shell that became `sleep 5`, which never reaps it.
    const shell = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = await new Promise<number>((resolve) => shell.stdout.once('data', (b: Buffer) => resolve(Number(b))));
      await new Promise((r) => setTimeout(r, 400));
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /);
      expect(ownerIsGone({ ...self, pid, start: '' })).toBe(true);
    } finally {
      shell.kill('SIGKILL');
    }
  });

  it('never counts a process of another host as gone: it cannot be checked from here', () => {
    expect(ownerIsGone({ ...self, host: `${self.host}-elsewhere`, pid: 2 ** 22 + 1, boot: 'other' })).toBe(false);
  });

  it('reads an owner back from its row, and nothing from a row without one', () => {
    expect(parseOwner(JSON.stringify(self))).toEqual(self);
    expect(parseOwner(null)).toBeNull();
    expect(parseOwner('not json')).toBeNull();
    expect(parseOwner('{"pid":"1"}')).toBeNull();
  });
});
