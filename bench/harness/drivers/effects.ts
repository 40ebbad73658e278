// W4's side-effect counter in a file: each step execution appends `<runId> <stepId>` (appendFileSync, so a
// kill -9 of the process loses nothing it wrote).
import { existsSync, readFileSync } from 'node:fs';
import type { ExecutionCount } from '../types.ts';

export function countEffects(file: string): ExecutionCount {
  if (!existsSync(file)) return { executions: 0, distinct: 0 };
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return { executions: lines.length, distinct: new Set(lines).size };
}
