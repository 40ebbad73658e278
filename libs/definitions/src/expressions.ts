import { parse } from '@marcbachmann/cel-js';
import type { ASTNode } from '@marcbachmann/cel-js';
import { quoteForMessage } from './quote.ts';

/** What an expression sees: the run's input, each finished step's output, and the run's identity. */
export interface ExpressionContext {
  readonly input: unknown;
  readonly steps: Readonly<Record<string, { readonly status: string; readonly output: unknown }>>;
  readonly run: { readonly id: string; readonly definitionId: string };
}

export class ExpressionError extends Error {
  readonly code = 'EXPRESSION.INVALID';
  readonly expression: string;
  constructor(expression: string, message: string) {
    super(message);
    this.name = 'ExpressionError';
    this.expression = expression;
  }
}

const WRAPPED = /^\s*\$\{\{([\s\S]*)\}\}\s*$/;
const EMBEDDED = /\$\{\{([\s\S]*?)\}\}/g;

/** `${{ input.email }}` and `input.email` are the same expression. */
export function unwrapExpression(text: string): string {
  const match = WRAPPED.exec(text);
  return (match ? match[1] ?? '' : text).trim();
}

type Program = ReturnType<typeof parse>;
// Parsing is pure, so caching parsed programs keeps `decide` deterministic and cheap.
const programs = new Map<string, Program>();

function program(source: string): Program {
  let compiled = programs.get(source);
  if (!compiled) {
    try {
      compiled = parse(source);
    } catch (error) {
      throw new ExpressionError(source, `cannot parse ${quoteForMessage(source)}: ${firstLine(error)}`);
    }
    if (programs.size > 10_000) programs.clear();
    programs.set(source, compiled);
  }
  return compiled;
}

/** Throws ExpressionError when the expression does not parse. */
export function checkExpression(source: string): void {
  program(source);
}

export function evaluateExpression(source: string, context: ExpressionContext): unknown {
  const compiled = program(source);
  try {
    return fromCel(compiled(toCel(context) as Record<string, unknown>));
  } catch (error) {
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

/** JSON integers become CEL ints, so `input.count + 1` works; other numbers stay doubles. */
function toCel(value: unknown): unknown {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toCel(item);
    return out;
  }
  return value;
}

function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), fromCel(v)]));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = fromCel(item);
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
