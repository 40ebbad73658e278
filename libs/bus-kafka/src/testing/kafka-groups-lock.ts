import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCK = join(tmpdir(), 'orchestron-kafka-groups.lock');

/**
 * Tests that run Orchestron's services on Kafka with their real consumer groups (orchestron-orchestrator,
 * orchestron-worker-<name>, …) would steal each other's partitions if Jest ran them at once on a many-core
 * machine. This lock, held across processes, runs them one at a time. A lock left by a dead process is taken over.
 */
export async function withKafkaGroups<T>(what: string, work: () => Promise<T>, waitMs = 15 * 60_000): Promise<T> {
  const release = await acquireKafkaGroups(what, waitMs);
  try {
    return await work();
  } finally {
    release();
  }
}

/** Takes the lock (waiting for whoever holds it); the function returned gives it back. */
export async function acquireKafkaGroups(what: string, waitMs = 15 * 60_000): Promise<() => void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'owner'), `${process.pid} ${what}`);
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch {
      const owner = readOwner();
      if (owner !== null && !alive(owner)) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new Error(`waited ${waitMs} ms for ${LOCK} (held by pid ${String(owner)}) before ${what}`);
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function readOwner(): number | null {
  try {
    return Number(readFileSync(join(LOCK, 'owner'), 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
