import { Environment } from '@marcbachmann/cel-js';
import type { ASTNode } from '@marcbachmann/cel-js';
import { setEnumerationListener } from './cel-values.ts';
import { CHARS_PER_UNIT, EXPRESSION_LIMITS } from './expression-budget.ts';
import type { Meter } from './expression-budget.ts';
import { CHARS_PER_MATCH_UNIT, regexMatches } from './expression-regex.ts';

/**
 * The one CEL environment expressions run in: the library's parse-time limits, `matches` on RE2,
 * and a meter on every node the evaluator runs.
 *
 * cel-js v8 has structural limits but no evaluation cost limit, so the meter hooks the
 * evaluator: every node is evaluated through its `run` method (comprehension steps included),
 * and this environment's evaluator is reached once, through `this` of a function handler, and
 * its `run` wrapped. Only this environment's evaluator is touched, never a prototype. If a
 * version of cel-js stops evaluating through `run`, the spec that expects a million-element map
 * to hit the budget fails.
 */

type Run = (ast: ASTNode, ctx: unknown) => unknown;
interface Evaluator {
  run: Run;
  tryEval: Run;
}
interface TypeChecker {
  check(ast: ASTNode, ctx: unknown): { name: string };
  getType(name: string): unknown;
  createError(code: string, message: string, ast: ASTNode): Error;
}
interface MacroInput {
  receiver: ASTNode;
  args: ASTNode[];
}

/** The parser's structural limits, shared with the checking environment (cel-checker.ts). */
export const CEL_LIMITS = {
  maxAstNodes: EXPRESSION_LIMITS.astNodes,
  maxDepth: EXPRESSION_LIMITS.depth,
  maxListElements: EXPRESSION_LIMITS.literalElements,
  maxMapEntries: EXPRESSION_LIMITS.literalElements,
  maxCallArguments: 16,
};

const environment = new Environment({ unlistedVariablesAreDyn: true, limits: CEL_LIMITS });

registerMatches(environment);

/**
 * `matches` on RE2, for this environment and for the checking one (cel-checker.ts), so both accept the same calls.
 *
 * cel-js registers `string.matches(string)` on JS RegExp and refuses a second overload with the
 * same receiver. A macro is found by name, receiver-ness and arity before any overload, and one
 * declared on another receiver type (`bytes`, which has no `matches`) overlaps nothing: so every
 * `x.matches(p)` expands to this macro, which checks its own types and matches with RE2.
 */
export function registerMatches(target: Environment): void {
  target.registerFunction({
    signature: 'bytes.matches(ast): bool',
    handler: ({ receiver, args }: MacroInput) => ({
      typeCheck(checker: TypeChecker, _macro: unknown, ctx: unknown) {
        for (const node of [receiver, args[0] as ASTNode]) {
          const type = checker.check(node, ctx).name;
          if (type !== 'string' && type !== 'dyn')
            throw checker.createError('no_matching_overload', `matches() takes strings, not ${type}`, node);
        }
        return checker.getType('bool');
      },
      evaluate(evaluator: Evaluator, _macro: unknown, ctx: unknown) {
        return meteredMatches(evaluator.run(receiver, ctx), evaluator.run(args[0] as ASTNode, ctx));
      },
    }),
  } as never);
  target.registerFunction('matches(string, string): bool', (text: string, pattern: string) =>
    meteredMatches(text, pattern),
  );
}

let captured: Evaluator | undefined;
environment.registerFunction('orchestron_evaluator(): bool', function (this: Evaluator) {
  // eslint-disable-next-line @typescript-eslint/no-this-alias -- reaching the evaluator is the point (see the header)
  captured = this;
  return true;
});
environment.evaluate('orchestron_evaluator()', {});
if (!captured || typeof captured.run !== 'function')
  throw new Error('cel-js no longer calls handlers with its evaluator: the expression budget cannot be enforced');
const evaluator: Evaluator = captured;
const unmetered = evaluator.run;
const unmeteredTry = evaluator.tryEval;

let meter: Meter | undefined;

/**
 * How the node being evaluated pays for its operands. A size-dependent node charges each child's
 * value as the child returns, so an operand too large to afford stops the evaluation before the
 * operation (say, a `split` of 4 MB into 4 million strings) runs.
 */
interface Frame {
  /** A list or map literal holds a context value by reference: only what the expression built costs. */
  readonly literal: boolean;
  /** Strings cost a unit per character, for calls whose result can have one element per character. */
  readonly charsPerUnit: number;
}
let frame: Frame | undefined;

/** Operations whose work grows with their operands: they pay for what they touch. */
const SIZED = new Set(['==', '!=', 'in', '+', '<', '<=', '>', '>=', 'list', 'map', 'call', 'rcall']);
/** Calls that are O(1), or macros whose own nodes are metered one by one. */
const FREE_CALLS = new Set([
  'size',
  'has',
  'map',
  'filter',
  'all',
  'exists',
  'exists_one',
  'bind',
  'matches',
  'dyn',
  'type',
  'orchestron_evaluator',
]);
/** Calls whose result may hold one element per character of a string operand. */
const PER_CHARACTER_CALLS = new Set(['split', 'bytes']);
/** A size-dependent node costs more than a plain one before its operands: overload resolution and a call take several times a field read. */
const CALL_COST = 4;
const LITERAL: Frame = { literal: true, charsPerUnit: CHARS_PER_UNIT };
const OPERATION: Frame = { literal: false, charsPerUnit: CHARS_PER_UNIT };
const PER_CHARACTER: Frame = { literal: false, charsPerUnit: 1 };

function frameFor(ast: ASTNode): Frame | undefined {
  if (!SIZED.has(ast.op)) return undefined;
  if (ast.op === 'list' || ast.op === 'map') return LITERAL;
  if (ast.op !== 'call' && ast.op !== 'rcall') return OPERATION;
  const name = ast.args[0] as string;
  if (FREE_CALLS.has(name)) return undefined;
  return PER_CHARACTER_CALLS.has(name) ? PER_CHARACTER : OPERATION;
}

evaluator.run = function meteredRun(this: Evaluator, ast: ASTNode, ctx: unknown): unknown {
  const m = meter;
  if (!m) return unmetered.call(this, ast, ctx);
  const own = frameFor(ast);
  m.spend(own === undefined ? 1 : CALL_COST);
  const parent = frame;
  frame = own;
  let result: unknown;
  try {
    result = unmetered.call(this, ast, ctx);
  } finally {
    frame = parent;
  }
  if (own) paid(m, own, result);
  if (parent) m.charge(result, parent.literal, parent.charsPerUnit);
  return result;
};

/** Size limits first: a value too large to keep is refused as that, not as too many operations. */
function paid(m: Meter, own: Frame, result: unknown): void {
  m.checkBuilt(result);
  m.charge(result, own.literal, own.charsPerUnit);
}

// `exists` and `all` evaluate each element through tryEval, which turns errors into values so a
// later element can outvote them; a spent budget would then throw once per remaining element
// (a million exceptions take over half a second). Once spent, tryEval throws, ending the loop.
evaluator.tryEval = function meteredTry(this: Evaluator, ast: ASTNode, ctx: unknown): unknown {
  if (meter?.failure) throw meter.failure;
  return unmeteredTry.call(this, ast, ctx);
};

function meteredMatches(text: unknown, pattern: unknown): boolean {
  if (typeof text !== 'string' || typeof pattern !== 'string') throw new TypeError('matches() takes two strings');
  meter?.spend(1 + Math.floor(text.length / CHARS_PER_MATCH_UNIT));
  return regexMatches(text, pattern);
}

export type Program = ReturnType<typeof environment.parse>;

export function parseCel(source: string): Program {
  return environment.parse(source);
}

/** Runs a parsed program with a fresh meter; the meter is returned so a swallowed limit still counts. */
export function runMetered(program: Program, context: Record<string, unknown>, budget: Meter): unknown {
  // cel-js evaluates the root node directly, not through `run`: its frame is set up here.
  const own = frameFor(program.ast);
  meter = budget;
  frame = own;
  setEnumerationListener((count) => budget.spend(count));
  try {
    const result = program(context);
    if (own) paid(budget, own, result);
    return result;
  } finally {
    meter = undefined;
    frame = undefined;
    setEnumerationListener(undefined);
  }
}
