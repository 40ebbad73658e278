import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createSqliteEventStore } from './index.ts';

const WRITER_SCRIPT = fileURLToPath(new URL('./testing/crash-writer.ts', import.meta.url));
const RUN_AFTER_FIRST_ACK_MS = 300;
const START_LIMIT_MS = 20_000;

interface Ack {
  readonly position: number;
  readonly writer: number;
  readonly index: number;
}

interface KilledRun {
  readonly acks: readonly Ack[];
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

let child: ChildProcess | undefined;
let directory: string | undefined;

afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

/** Runs the writer until RUN_AFTER_FIRST_ACK_MS past its first ack, then SIGKILLs it mid-stride. */
function runAndKill(path: string): Promise<KilledRun> {
  return new Promise((resolve, reject) => {
    const writer = spawn(process.execPath, [WRITER_SCRIPT, path], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child = writer;
    let stdout = '';
    let stderr = '';
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const startTimer = setTimeout(() => writer.kill('SIGKILL'), START_LIMIT_MS);
    writer.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (killTimer === undefined && stdout.includes('\n')) {
        clearTimeout(startTimer);
        killTimer = setTimeout(() => writer.kill('SIGKILL'), RUN_AFTER_FIRST_ACK_MS);
      }
    });
    writer.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    writer.on('error', reject);
    writer.on('close', (_code, signal) => {
      clearTimeout(startTimer);
      clearTimeout(killTimer);
      // A line cut short by the kill was never a complete ack.
      const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
      const acks = complete
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Ack);
      resolve({ acks, signal, stderr });
    });
  });
}

describe('sqlite event store under kill -9', () => {
  it('keeps every append it acknowledged before the process was killed', async () => {
    directory = await mkdtemp(join(tmpdir(), 'orchestron-store-sqlite-crash-'));
    const path = join(directory, 'events.db');

    const run = await runAndKill(path);
    expect({ signal: run.signal, stderr: run.stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    expect(run.acks.length).toBeGreaterThan(0);

    const store = createSqliteEventStore({ path });
    try {
      const byPosition = new Map((await store.readAll()).map((event) => [event.position, event]));
      const lost = run.acks.filter((ack) => {
        const event = byPosition.get(ack.position);
        const data = event?.data as { writer?: number; index?: number } | undefined;
        return (
          event?.streamId !== `crash-${ack.writer}` ||
          event.revision !== ack.index ||
          data?.writer !== ack.writer ||
          data.index !== ack.index
        );
      });
      expect(lost).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
