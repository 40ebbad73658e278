import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { ROOT } from '../support/server-process.ts';

/** The architecture rule of STYLE.md principle 5, checked by running the project's own lint config. */
describe('lint guards the domain libs', () => {
  const eslint = new ESLint({ cwd: ROOT });
  const ruleIds = async (code: string, filePath: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath });
    return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
  };

  it.each([
    ["import { readFileSync } from 'node:fs';", 'Node built-ins'],
    ["import { Injectable } from '@nestjs/common';", 'NestJS'],
    ["import { Kafka } from '@confluentinc/kafka-javascript';", 'Kafka client'],
    ["import { KurrentDBClient } from '@kurrent/kurrentdb-client';", 'event-store or database client'],
    ["import Database from 'better-sqlite3';", 'event-store or database client'],
    ["import { thing } from '@orchestron/runtime/src/engine.ts';", 'public entry'],
  ])('rejects %s in libs/workflow-core', async (line, reason) => {
    const messages = await ruleIds(`${line}\nexport const x = 1;\n`, `${ROOT}/libs/workflow-core/src/probe.ts`);
    expect(messages.join('\n')).toContain(reason);
  });

  it('rejects reading the clock or randomness in the decider', async () => {
    const messages = await ruleIds(
      'export const t = (): number => Date.now() + Math.random();\n',
      `${ROOT}/libs/workflow-core/src/probe.ts`,
    );
    expect(messages.filter((m) => m.startsWith('no-restricted-syntax'))).toHaveLength(2);
  });

  it('allows the same imports in the runtime, which is not a domain lib', async () => {
    const messages = await ruleIds(
      "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
      `${ROOT}/libs/runtime/src/probe.ts`,
    );
    expect(messages).toEqual([]);
  });
});
