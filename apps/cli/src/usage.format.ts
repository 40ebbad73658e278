type Data = Readonly<Record<string, unknown>>;

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** `1,234 tokens (1,000 in, 234 out) 0.0123 USD`, for one report's usage or a total. Empty for none. */
export function usageText(usage: unknown): string {
  if (typeof usage !== 'object' || usage === null) return '';
  const u = usage as Data;
  const input = num(u['inputTokens']);
  const output = num(u['outputTokens']);
  const tokens = `${(input + output).toLocaleString('en-US')} tokens (${input.toLocaleString('en-US')} in, ${output.toLocaleString('en-US')} out)`;
  return [typeof u['model'] === 'string' ? u['model'] : null, tokens, ...costs(u['cost'])]
    .filter((part) => part !== null)
    .join(' ');
}

/** A report's `{ amount, currency }`, or a total's `{ USD: 0.12, ... }`. */
function costs(cost: unknown): string[] {
  if (typeof cost !== 'object' || cost === null) return [];
  const c = cost as Data;
  if (typeof c['currency'] === 'string') return [`${num(c['amount'])} ${c['currency']}`];
  return Object.entries(c).map(([currency, amount]) => `${num(amount)} ${currency}`);
}

/** `tokens ≤ 50,000, cost ≤ 2 USD`, or `none`. */
export function budgetText(budget: unknown): string {
  if (typeof budget !== 'object' || budget === null) return 'none';
  const b = budget as Data;
  const parts: string[] = [];
  if (typeof b['tokens'] === 'number') parts.push(`tokens ≤ ${b['tokens'].toLocaleString('en-US')}`);
  const cost = b['cost'] as Data | undefined;
  if (cost !== undefined) parts.push(`cost ≤ ${num(cost['amount'])} ${String(cost['currency'])}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
