import type { ASTNode } from '@marcbachmann/cel-js';
import { parseCel, runMetered } from './cel-environment.ts';
import type { Program } from './cel-environment.ts';
import { celView, rawOf } from './cel-values.ts';
import { BudgetExceeded, EXPRESSION_LIMITS, Meter } from './expression-budget.ts';
import { ExpressionBudgetError, ExpressionError } from './expression-errors.ts';
import { compileRegex, RegexRefused } from './expression-regex.ts';

export { ExpressionBudgetError, ExpressionError } from './expression-errors.ts';
import { quoteForMessage } from './quote.ts';

/** What an expression sees: the run's input, each finished step's output, and the run's identity. */
export interface ExpressionContext {
  readonly input: unknown;
  readonly steps: Readonly<Record<string, { readonly status: string; readonly output: unknown }>>;
  readonly run: { readonly id: string; readonly definitionId: string };
}

const WRAPPED = /^\s*\$\{\{([\s\S]*)\}\}\s*$/;
const EMBEDDED = /\$\{\{([\s\S]*?)\}\}/g;

/** `${{ input.email }}` and `input.email` are the same expression. */
export function unwrapExpression(text: string): string {
  const match = WRAPPED.exec(text);
  return (match ? (match[1] ?? '') : text).trim();
}

// Parsing is pure, so caching parsed programs keeps `decide` deterministic and cheap.
const programs = new Map<string, Program>();

function program(source: string): Program {
  let compiled = programs.get(source);
  if (!compiled) {
    if (source.length > EXPRESSION_LIMITS.sourceLength) {
      throw new ExpressionError(
        source.slice(0, 80),
        `expression is ${source.length} characters long; the limit is ${EXPRESSION_LIMITS.sourceLength}`,
      );
    }
    try {
      compiled = parseCel(source);
    } catch (error) {
      throw new ExpressionError(source, `cannot parse ${quoteForMessage(source)}: ${firstLine(error)}`);
    }
    if (programs.size > 10_000) programs.clear();
    programs.set(source, compiled);
  }
  return compiled;
}

/** Throws ExpressionError when the expression does not parse, or holds a regex literal RE2 refuses. */
export function checkExpression(source: string): void {
  visit(program(source).ast, (node) => {
    const pattern = regexLiteral(node);
    if (pattern === undefined) return;
    try {
      compileRegex(pattern);
    } catch (error) {
      if (error instanceof RegexRefused) throw new ExpressionError(source, error.message);
      throw error;
    }
  });
}

/** The parsed expression (cached); throws ExpressionError when it is too long or does not parse. */
export function expressionAst(source: string): ASTNode {
  return program(source).ast;
}

/**
 * Evaluates within EXPRESSION_LIMITS. Throws ExpressionBudgetError (EXPRESSION.BUDGET_EXCEEDED)
 * when a limit is hit, ExpressionError (EXPRESSION.INVALID) for anything else that goes wrong.
 */
export function evaluateExpression(source: string, context: ExpressionContext): unknown {
  const compiled = program(source);
  const meter = new Meter();
  try {
    const result = runMetered(compiled, celContext(context), meter);
    if (meter.failure) throw meter.failure;
    return fromCel(result, { left: EXPRESSION_LIMITS.resultSize, meter });
  } catch (error) {
    const exceeded = meter.failure ?? (error instanceof BudgetExceeded ? error : undefined);
    if (exceeded) throw new ExpressionBudgetError(source, exceeded.limit, exceeded.max, exceeded.detail);
    if (error instanceof RegexRefused)
      throw new ExpressionError(source, `cannot evaluate ${quoteForMessage(source)}: ${error.message}`);
    throw new ExpressionError(source, `cannot evaluate ${quoteForMessage(source)}: ${firstLine(error)}`);
  }
}

/** Step ids an expression reads through `steps['id']` or `steps.id`. */
export function referencedSteps(source: string): string[] {
  const found = new Set<string>();
  visit(program(source).ast, (node) => {
    if (!Array.isArray(node.args)) return;
    const [target, key] = node.args as unknown as [ASTNode | undefined, unknown];
    if (!isNode(target) || target.op !== 'id' || (target.args as unknown) !== 'steps') return;
    if (node.op === '.' && typeof key === 'string') found.add(key);
    if (node.op === '[]' && isNode(key) && key.op === 'value' && typeof key.args === 'string') found.add(key.args);
  });
  return [...found];
}

/** Every expression inside an input-mapping tree, with its path below `basePath`. */
export function templateExpressions(tree: unknown, basePath: string): { path: string; source: string }[] {
  const out: { path: string; source: string }[] = [];
  walkTemplate(tree, basePath, (path, text) => {
    for (const match of text.matchAll(EMBEDDED)) out.push({ path, source: (match[1] ?? '').trim() });
  });
  return out;
}

/** Resolves an input-mapping tree: a string that is one `${{ }}` becomes the value, embedded ones interpolate. */
export function renderTemplate(tree: unknown, context: ExpressionContext): unknown {
  if (typeof tree === 'string') {
    const whole = WRAPPED.exec(tree);
    if (whole && !(whole[1] ?? '').includes('}}')) return evaluateExpression((whole[1] ?? '').trim(), context);
    return tree.replace(EMBEDDED, (_m, source: string) => stringify(evaluateExpression(source.trim(), context)));
  }
  if (Array.isArray(tree)) return tree.map((item) => renderTemplate(item, context));
  if (tree !== null && typeof tree === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(tree)) out[key] = renderTemplate(value, context);
    return out;
  }
  return tree;
}

function walkTemplate(tree: unknown, path: string, onString: (path: string, text: string) => void): void {
  if (typeof tree === 'string') onString(path, tree);
  else if (Array.isArray(tree)) tree.forEach((item, i) => walkTemplate(item, `${path}/${i}`, onString));
  else if (tree !== null && typeof tree === 'object') {
    for (const [key, value] of Object.entries(tree)) walkTemplate(value, `${path}/${key}`, onString);
  }
}

function visit(node: unknown, onNode: (node: ASTNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) visit(child, onNode);
    return;
  }
  if (!isNode(node)) return;
  onNode(node);
  visit(node.args, onNode);
}

function isNode(value: unknown): value is ASTNode {
  return value !== null && typeof value === 'object' && typeof (value as { op?: unknown }).op === 'string';
}

/** The context as CEL reads it: JSON integers as ints, converted as they are read (cel-values.ts). */
function celContext(context: ExpressionContext): Record<string, unknown> {
  return { input: celView(context.input), steps: celView(context.steps), run: celView(context.run) };
}

/** Pattern of `s.matches('...')` or `matches(s, '...')` when it is a literal, else undefined. */
function regexLiteral(node: ASTNode): string | undefined {
  if (node.op !== 'call' && node.op !== 'rcall') return undefined;
  const args = node.args as unknown as [string, ...unknown[]];
  if (args[0] !== 'matches') return undefined;
  const operands = (node.op === 'rcall' ? args[2] : args[1]) as unknown[];
  const pattern = operands[operands.length - 1];
  return isNode(pattern) && pattern.op === 'value' && typeof pattern.args === 'string' ? pattern.args : undefined;
}

/**
 * Back to JSON. A context value returned untouched is its raw JSON again, at no cost; what the
 * expression built is copied, and counted against the result size limit.
 */
function fromCel(value: unknown, budget: { left: number; meter: Meter }): unknown {
  budget.left -= typeof value === 'string' ? 1 + Math.floor(value.length / 64) : 1;
  if (budget.left < 0) budget.meter.fail('resultSize', EXPRESSION_LIMITS.resultSize, 'size units in its result');
  if (typeof value === 'bigint') return Number(value);
  if (value === null || typeof value !== 'object') return value;
  const raw = rawOf(value);
  if (raw) return raw;
  if (Array.isArray(value)) return value.map((item) => fromCel(item, budget));
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), fromCel(v, budget)]));
  if (Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = fromCel(item, budget);
    return out;
  }
  return value;
}

function stringify(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
