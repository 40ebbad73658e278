import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { ROOT } from '../support/server-process.ts';

/*
 * The layer rules of eslint.config.js, each shown to bite: a planted import in the package it is forbidden in is
 * refused with that rule's message, and the same import where it is allowed passes, so the refusal comes from the
 * layer and not from the probe. (Delete a rule's block from eslint.config.js and its "rejects" cases fail.)
 */
describe('lint holds the layers', () => {
  const eslint = new ESLint({ cwd: ROOT });
  const lint = async (code: string, path: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${path}` });
    return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
  };
  const importing = (specifier: string): string => `import '${specifier}';\n`;

  describe('domain libs import only domain libs', () => {
    const domainLibs = ['workflow-core', 'definitions', 'policy'];
    const forbidden: Array<[string, string]> = [
      ['@orchestron/runtime', 'Domain libs import only domain libs'],
      ['@orchestron/runtime/testing', 'Domain libs import only domain libs'],
      ['@orchestron/bus', 'Domain libs import only domain libs'],
      ['@orchestron/event-store', 'Domain libs import only domain libs'],
      ['@orchestron/store-postgres', 'Domain libs import only domain libs'],
      ['@orchestron/bus-kafka', 'Domain libs import only domain libs'],
      ['@orchestron/server', 'Domain libs import only domain libs'],
      ['@nestjs/core', 'must not import NestJS'],
      ['@platformatic/kafka', 'must not import a Kafka client'],
      ['pg', 'event-store or database client'],
      ['@kurrent/kurrentdb-client', 'event-store or database client'],
      ['node:zlib', 'Node built-ins'],
      ['zlib', 'Node built-ins'],
      ['worker_threads', 'Node built-ins'],
    ];
    for (const lib of domainLibs) {
      it.each(forbidden)(`rejects %s in libs/${lib}`, async (specifier, reason) => {
        const messages = await lint(importing(specifier), `libs/${lib}/src/probe.ts`);
        expect(messages.join('\n')).toMatch(new RegExp(`^no-restricted-imports: .*${reason}`, 'm'));
      });
    }

    it.each([
      '@orchestron/workflow-core',
      '@orchestron/definitions',
      '@orchestron/policy',
      '@orchestron/workflow-core/testing',
      'yaml',
    ])('accepts %s in libs/workflow-core', async (specifier) => {
      expect(await lint(importing(specifier), 'libs/workflow-core/src/probe.ts')).toEqual([]);
    });

    it('lets domain specs read fixtures from disk but not reach past the domain', async () => {
      expect(await lint(importing('node:fs'), 'libs/policy/src/probe.spec.ts')).toEqual([]);
      expect((await lint(importing('@orchestron/runtime'), 'libs/policy/src/probe.spec.ts')).join('\n')).toContain(
        'Domain libs import only domain libs',
      );
    });
  });

  describe('the runtime imports ports, never adapters', () => {
    const adapters = [
      '@orchestron/store-postgres',
      '@orchestron/store-sqlite',
      '@orchestron/store-kurrentdb',
      '@orchestron/bus-kafka',
      '@orchestron/nest-transport',
      'pg',
      'postgres',
      '@platformatic/kafka',
      'better-sqlite3',
      '@kurrent/kurrentdb-client',
      '@nestjs/common',
    ];

    it.each(adapters)('rejects %s in libs/runtime/src', async (specifier) => {
      const messages = await lint(importing(specifier), 'libs/runtime/src/probe.ts');
      expect(messages.join('\n')).toMatch(/^no-restricted-imports: .*(imports ports|does not import NestJS)/m);
    });

    it('rejects an adapter in a runtime unit spec, and accepts one in an integration spec that runs a real tier', async () => {
      expect(
        (await lint(importing('@orchestron/store-sqlite'), 'libs/runtime/src/probe.spec.ts')).join('\n'),
      ).toContain('imports ports');
      expect(await lint(importing('@orchestron/store-sqlite'), 'libs/runtime/src/probe.int.spec.ts')).toEqual([]);
    });

    it.each(['@orchestron/bus', '@orchestron/event-store', '@orchestron/workflow-core', 'node:crypto'])(
      'accepts the port or domain import %s in libs/runtime',
      async (specifier) => {
        expect(await lint(importing(specifier), 'libs/runtime/src/probe.ts')).toEqual([]);
      },
    );

    it('accepts the adapters in an app, which composes a tier', async () => {
      expect(
        await lint(
          adapters
            .filter((a) => a.startsWith('@orchestron/'))
            .map(importing)
            .join(''),
          'apps/server/src/probe.ts',
        ),
      ).toEqual([]);
    });
  });

  describe('libs never import apps', () => {
    it.each([
      '@orchestron/server',
      '@orchestron/cli',
      '@orchestron/governance',
      '@orchestron/orchestrator',
      '@orchestron/workers',
    ])('rejects %s in libs/bus', async (specifier) => {
      expect((await lint(importing(specifier), 'libs/bus/src/probe.ts')).join('\n')).toContain(
        'Libs must not import apps',
      );
    });
  });

  describe('no relative import crosses a package root', () => {
    it.each([
      ['libs/bus/src/probe.ts', '../../runtime/src/engine.ts'],
      ['libs/runtime/src/probe.ts', '../../../apps/server/src/http/app.ts'],
      ['apps/cli/src/probe.ts', '../../../libs/bus-kafka/src/testing/kafka-broker.ts'],
      ['test/e2e/probe.spec.ts', '../../apps/server/src/http/app.ts'],
      ['tools/probe.ts', '../libs/bus/src/topics.ts'],
    ])('rejects, in %s, %s', async (path, specifier) => {
      expect((await lint(importing(specifier), path)).join('\n')).toContain(
        'import-x/no-relative-packages: Relative import from another package is not allowed',
      );
    });

    it('accepts relative imports inside one package, and between the root folders test/ and tools/', async () => {
      expect(await lint(importing('./topics.ts'), 'libs/bus/src/probe.ts')).toEqual([]);
      expect(await lint(importing('../../tools/stack/stack.ts'), 'test/e2e/probe.spec.ts')).toEqual([]);
    });
  });
});
