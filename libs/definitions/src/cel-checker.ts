import { Environment } from '@marcbachmann/cel-js';
import { CEL_LIMITS, registerMatches } from './cel-environment.ts';
import { quoteForMessage } from './quote.ts';

/**
 * The environment expressions are type-checked in when a definition is registered. It declares what
 * every expression sees at run time (workflow-core's `context`): `input` (any JSON), `steps` (each
 * step's `status` and `output`) and `run` (`id`, `definitionId`), and nothing else; so an unknown
 * identifier, a call to a function CEL does not have, or a field `steps.x` or `run` does not have is
 * refused before any run meets it. Which steps an expression may read is checked on the AST
 * (expression-reads.ts): the type system cannot say which keys of `steps` are upstream.
 *
 * It is a separate environment, not a clone of the evaluating one: that one also holds the function that
 * reaches its evaluator (cel-environment.ts), which no definition may call.
 */
const checker = new Environment({ unlistedVariablesAreDyn: false, limits: CEL_LIMITS });
registerMatches(checker);
checker.registerType('Step', { fields: { status: 'string', output: 'dyn' } } as never);
checker.registerType('Run', { fields: { id: 'string', definitionId: 'string' } } as never);
checker.registerVariable('input', 'dyn');
checker.registerVariable('steps', 'map<string, Step>');
checker.registerVariable('run', 'Run');

/** The names an expression may call, as functions or methods (macros such as `has` and `map` included). */
export const KNOWN_FUNCTIONS: ReadonlySet<string> = new Set(checker.getDefinitions().functions.map((f) => f.name));

/** Why the expression does not type-check, as a verb phrase ("reads unknown identifier …"), or undefined when it does. */
export function typeProblem(source: string): { readonly code: string; readonly message: string } | undefined {
  const result = checker.check(source);
  if (result.valid) return undefined;
  const error = result.error as Error & { summary?: string; code?: string };
  const code = error.code ?? 'type_error';
  const summary = error.summary ?? (error.message.split('\n')[0] || String(error));
  const unknown = /^Unknown variable: (.+)$/.exec(summary);
  if (unknown)
    return {
      code,
      message: `reads unknown identifier ${quoteForMessage(unknown[1] ?? '')}: an expression sees only input, steps and run`,
    };
  return { code, message: `does not type-check: ${summary}` };
}
