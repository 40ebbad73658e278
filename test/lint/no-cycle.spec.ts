import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cruise } from 'dependency-cruiser';
import type { ICruiseResult, IForbiddenRuleType } from 'dependency-cruiser';
import config, { CRUISED } from '../../.dependency-cruiser.mjs';
import { ROOT } from '../support/server-process.ts';

/*
 * `npm run lint:cycles`: dependency-cruiser's no-circular over the repo, type-only imports included, with no
 * allowance (the runtime's last cycle went with the redesign). Run through the API with the project's own config.
 */
const cruiseWith = async (forbidden: IForbiddenRuleType[], paths: string[]): Promise<ICruiseResult> => {
  const { output } = await cruise(paths, { ...config.options, baseDir: ROOT, validate: true, ruleSet: { forbidden } });
  return output as ICruiseResult;
};
/** Every file on a reported cycle (dependency-cruiser reports each cycle once, from one of its files). */
const filesOnCycles = (result: ICruiseResult): string[] =>
  [...new Set(result.summary.violations.flatMap((v) => [v.from, ...(v.cycle ?? []).map((step) => step.name)]))].sort();

describe('no import cycle', () => {
  it('holds for the whole repo', async () => {
    const result = await cruiseWith(config.forbidden, CRUISED);
    expect(result.summary.violations.map((v) => [v.from, ...(v.cycle ?? []).map((c) => c.name)].join(' -> '))).toEqual(
      [],
    );
    expect(result.summary.totalCruised).toBeGreaterThan(200);
  });

  it('holds in libs/runtime, whose engine, message handling and services once imported each other in a circle', async () => {
    const result = await cruiseWith(config.forbidden, ['libs/runtime/src']);
    expect(filesOnCycles(result)).toEqual([]);
  });

  describe('a planted cycle', () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(ROOT, 'libs/bus/src/cycle-probe-'));
      writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.ts';\nexport interface A { b?: B }\n");
      writeFileSync(join(dir, 'b.ts'), "import { c } from './c.ts';\nexport interface B { c: typeof c }\n");
      writeFileSync(join(dir, 'c.ts'), "import type { A } from './a.ts';\nexport const c: A | null = null;\n");
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('is refused, though two of its three imports are type-only', async () => {
      const result = await cruiseWith(config.forbidden, [relative(ROOT, dir)]);
      expect(filesOnCycles(result)).toEqual(['a.ts', 'b.ts', 'c.ts'].map((f) => `${relative(ROOT, dir)}/${f}`));
      expect(result.summary.error).toBeGreaterThan(0);
    });
  });
});
