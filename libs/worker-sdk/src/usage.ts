import { stepUsageSchema, wireParser } from '@orchestron/bus';
import type { StepUsage } from '@orchestron/bus';

const parseUsage = wireParser<StepUsage>(stepUsageSchema, 'usage report');
const MAX_MODEL_CHARS = 200;

/**
 * What one attempt's handler reports it used, summed over its calls of `ctx.reportUsage` (an agent step may call a
 * model several times). Each call is checked as the orchestrator checks the report, so a bad field fails the call
 * that made it, naming the field, rather than dead-lettering the whole outcome later.
 */
export class UsageMeter {
  #total: StepUsage | undefined;

  add(usage: StepUsage): void {
    const checked = parseUsage(usage);
    const before = this.#total;
    if (before === undefined) {
      this.#total = { ...checked };
      return;
    }
    const model = models(before.model, checked.model);
    const cost = sumCost(before.cost, checked.cost);
    this.#total = {
      ...(model !== undefined ? { model } : {}),
      inputTokens: before.inputTokens + checked.inputTokens,
      outputTokens: before.outputTokens + checked.outputTokens,
      ...(cost !== undefined ? { cost } : {}),
    };
  }

  get total(): StepUsage | undefined {
    return this.#total;
  }
}

/** Every model the attempt called, once each, within the report's limit. */
function models(a: string | undefined, b: string | undefined): string | undefined {
  const names = [...new Set([...(a?.split('+') ?? []), ...(b !== undefined ? [b] : [])])];
  return names.length === 0 ? undefined : names.join('+').slice(0, MAX_MODEL_CHARS);
}

function sumCost(a: StepUsage['cost'], b: StepUsage['cost']): StepUsage['cost'] {
  if (a === undefined || b === undefined) return a ?? b;
  if (a.currency !== b.currency)
    throw new TypeError(
      `reportUsage: cost.currency ${b.currency} differs from ${a.currency}, reported earlier in this attempt; convert it first`,
    );
  return { amount: Math.round((a.amount + b.amount) * 1e6) / 1e6, currency: a.currency };
}
