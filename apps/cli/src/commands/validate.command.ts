import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LocalDefinitionError, UsageError } from '../cli.errors.ts';
import { printJson } from '../output.ts';
import type { CliContext } from '../cli.context.ts';
import type { Command } from 'commander';

export function registerValidateCommand(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description(
      'check a definition file on this machine (no server needed): schema, dependency cycles, references, expression types',
    )
    .argument('<file>', 'a definition file (.yaml, .yml or .json)')
    .option('--json', 'print {"valid":true,…} or {"error":{…}} as one line of JSON')
    .addHelpText(
      'after',
      `
Every problem is printed as "path: message". Exits 0 when the definition is valid, 2 when it is not.

Examples:
  $ orchestron validate examples/employee-onboarding.yaml
  $ orchestron validate my-workflow.json --json
`,
    )
    .action(async (file: string, options: { json?: boolean }) => {
      let text: string;
      try {
        text = readFileSync(resolve(ctx.cwd, file), 'utf8');
      } catch (error) {
        throw new UsageError(
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      // Loaded lazily: the definitions lib (YAML, Ajv, CEL) is the heaviest import the CLI has.
      const { compileDefinition, parseDefinitionText, DefinitionInvalidError } =
        await import('@orchestron/definitions');
      let compiled;
      try {
        compiled = compileDefinition(parseDefinitionText(text, file));
      } catch (error) {
        if (error instanceof DefinitionInvalidError) throw new LocalDefinitionError(file, error.issues);
        throw error;
      }
      const stepCount = Object.keys(compiled.steps).length;
      if (options.json)
        printJson(ctx.io, {
          valid: true,
          definition: { id: compiled.id, version: compiled.version, steps: stepCount },
        });
      else
        ctx.io.out(
          `valid: ${file} (${compiled.id} v${compiled.version}, ${stepCount} step${stepCount === 1 ? '' : 's'})`,
        );
      ctx.finish({ kind: 'succeeded' });
    });
}
