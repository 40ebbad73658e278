import type { ASTNode } from '@marcbachmann/cel-js';
import { KNOWN_FUNCTIONS } from './cel-checker.ts';
import { quoteForMessage } from './quote.ts';

/**
 * How an expression reads `steps`, from its AST: which steps, whether it reads their output or only their
 * status, and whether each output read is guarded. The rule (docs/definitions.md, "Reading a step that may
 * not have succeeded"): a read of `steps.x.output` is guarded when it is inside `has(...)`, or on the right
 * of an `&&`, or in the first branch of a `? :`, whose condition has one of these conjuncts:
 * `steps.x.status == 'completed'`, `steps.x.output != null`, `has(steps.x.output.<field>…)`.
 */

export interface StepRead {
  readonly step: string;
  /** It reads the step's output (or the whole entry, which holds it), not only its status. */
  readonly output: boolean;
  readonly guarded: boolean;
}

export interface ExpressionReads {
  readonly reads: readonly StepRead[];
  /** What the expression does that cannot be checked statically, or calls what does not exist. */
  readonly problems: readonly string[];
  /** Whether a problem is a call to an unknown function (the type checker would only repeat it). */
  readonly unknownFunction: boolean;
}

/** The names an expression sees (expressions.ts's context): a macro variable may not hide one. */
const CONTEXT_NAMES: ReadonlySet<string> = new Set(['input', 'steps', 'run']);
/** Macros whose first argument names a variable. */
const BINDING_MACROS: ReadonlySet<string> = new Set(['all', 'exists', 'exists_one', 'map', 'filter', 'bind']);
const NONE: ReadonlySet<string> = new Set();

export function readsOf(ast: ASTNode): ExpressionReads {
  const walker = new Walker();
  walker.walk(ast, NONE, false);
  return { reads: walker.reads, problems: [...new Set(walker.problems)], unknownFunction: walker.unknownFunction };
}

/** Steps the expression, when it is true, proves completed: the guards among its top-level conjuncts. */
export function guardsOf(ast: ASTNode): ReadonlySet<string> {
  const found = new Set<string>();
  for (const conjunct of conjuncts(ast)) {
    const step = guardedStep(conjunct);
    if (step !== undefined) found.add(step);
  }
  return found;
}

class Walker {
  readonly reads: StepRead[] = [];
  readonly problems: string[] = [];
  unknownFunction = false;

  walk(node: ASTNode, guarded: ReadonlySet<string>, inHas: boolean): void {
    // A guard tests the step's status or whether its output is there: it never reads a missing output.
    const tested = guardedStep(node);
    if (tested !== undefined) return void this.reads.push({ step: tested, output: false, guarded: true });
    const field = access(node);
    const entry = field ? stepEntry(field.target) : undefined;
    if (field && entry !== undefined) {
      if (field.key !== 'status') this.readOutput(entry, guarded, inHas);
      else this.reads.push({ step: entry, output: false, guarded: true });
      return;
    }
    const whole = stepEntry(node);
    if (whole !== undefined) return this.readOutput(whole, guarded, inHas);
    switch (node.op) {
      case 'id':
        if (node.args === 'steps')
          this.problems.push("reads steps as a whole: read one step at a time, as steps.<id> or steps['<id>']");
        return;
      case '[]':
        if (!isId(node.args[0], 'steps')) break;
        this.problems.push("indexes steps with a computed key: name the step, as steps.<id> or steps['<id>']");
        return this.walk(node.args[1], guarded, inHas);
      case '&&':
        this.walk(node.args[0], guarded, inHas);
        this.walk(node.args[1], union(guarded, guardsOf(node.args[0])), inHas);
        return;
      case '?:':
        this.walk(node.args[0], guarded, inHas);
        this.walk(node.args[1], union(guarded, guardsOf(node.args[0])), inHas);
        this.walk(node.args[2], guarded, inHas);
        return;
      case 'call':
      case 'rcall':
        this.checkCall(node);
        break;
    }
    this.children(node.args, guarded, inHas || (node.op === 'call' && node.args[0] === 'has'));
  }

  private readOutput(step: string, guarded: ReadonlySet<string>, inHas: boolean): void {
    this.reads.push({ step, output: true, guarded: inHas || guarded.has(step) });
  }

  private checkCall(node: ASTNode & { op: 'call' | 'rcall' }): void {
    const name = node.args[0];
    if (!KNOWN_FUNCTIONS.has(name)) {
      this.unknownFunction = true;
      this.problems.push(`calls unknown function ${quoteForMessage(name)}`);
    }
    const operands = node.op === 'rcall' ? node.args[2] : node.args[1];
    const bound = operands[0];
    if (node.op === 'rcall' && BINDING_MACROS.has(name) && bound?.op === 'id' && CONTEXT_NAMES.has(bound.args))
      this.problems.push(`binds ${quoteForMessage(bound.args)} as the variable of ${name}(): it would hide the run's`);
  }

  private children(args: unknown, guarded: ReadonlySet<string>, inHas: boolean): void {
    if (Array.isArray(args)) for (const child of args) this.children(child, guarded, inHas);
    else if (isNode(args)) this.walk(args, guarded, inHas);
  }
}

/** `steps.x` or `steps['x']`: the step id, else undefined. */
function stepEntry(node: ASTNode): string | undefined {
  const field = access(node);
  return field && isId(field.target, 'steps') ? field.key : undefined;
}

/** `t.key` or `t['key']` with a literal key. */
function access(node: unknown): { target: ASTNode; key: string } | undefined {
  if (!isNode(node)) return undefined;
  if (node.op === '.') return { target: node.args[0], key: node.args[1] };
  if (node.op === '[]' && node.args[1].op === 'value' && typeof node.args[1].args === 'string')
    return { target: node.args[0], key: node.args[1].args };
  return undefined;
}

function conjuncts(node: ASTNode, into: ASTNode[] = []): ASTNode[] {
  if (node.op !== '&&') into.push(node);
  else {
    conjuncts(node.args[0], into);
    conjuncts(node.args[1], into);
  }
  return into;
}

/** The step a condition proves completed: `steps.x.status == 'completed'`, `steps.x.output != null`, `has(steps.x.output.f)`. */
function guardedStep(node: ASTNode): string | undefined {
  if (node.op === '==' || node.op === '!=') {
    const [a, b] = node.args;
    const [field, literal] = b.op === 'value' ? [a, b] : [b, a];
    const read = access(field);
    const step = read ? stepEntry(read.target) : undefined;
    if (step === undefined || read === undefined || literal.op !== 'value') return undefined;
    if (node.op === '==' && read.key === 'status' && literal.args === 'completed') return step;
    if (node.op === '!=' && read.key === 'output' && literal.args === null) return step;
    return undefined;
  }
  if (node.op === 'call' && node.args[0] === 'has') {
    // has(steps.x.output) is always true: the test has to reach below the output.
    for (let inner = access(node.args[1][0])?.target; inner; inner = access(inner)?.target) {
      const read = access(inner);
      const step = read ? stepEntry(read.target) : undefined;
      if (read && step !== undefined) return read.key === 'output' ? step : undefined;
    }
  }
  return undefined;
}

function union(a: ReadonlySet<string>, b: ReadonlySet<string>): ReadonlySet<string> {
  return b.size === 0 ? a : new Set([...a, ...b]);
}

function isId(node: unknown, name: string): boolean {
  return isNode(node) && node.op === 'id' && node.args === name;
}

function isNode(value: unknown): value is ASTNode {
  return value !== null && typeof value === 'object' && typeof (value as { op?: unknown }).op === 'string';
}
