import type { ReactNode } from 'react';
import { BASE, navigate } from '../router.ts';

/** `1,234 tokens · 0.0123 USD`: a usage's total, for a run or a step. */
export function usageText(usage: { inputTokens: number; outputTokens: number; cost: Record<string, number> }): string {
  const costs = Object.entries(usage.cost).map(([currency, amount]) => `${amount} ${currency}`);
  return [`${(usage.inputTokens + usage.outputTokens).toLocaleString('en-US')} tokens`, ...costs].join(' · ');
}

/** `≤ 5,000 tokens · ≤ 0.1 USD`, or `none`. */
export function budgetText(
  budget: { tokens?: number; cost?: { amount: number; currency: string } } | undefined,
): string {
  if (budget === undefined) return 'none';
  const parts = [
    ...(budget.tokens !== undefined ? [`≤ ${budget.tokens.toLocaleString('en-US')} tokens`] : []),
    ...(budget.cost !== undefined ? [`≤ ${budget.cost.amount} ${budget.cost.currency}`] : []),
  ];
  return parts.join(' · ') || 'none';
}

export function Chip({ status }: { status: string }) {
  return <span className={`chip status-${status}`}>{status.replace(/_/g, ' ')}</span>;
}

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  return (
    <a
      href={BASE + to}
      className={className}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {value === undefined ? '—' : JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function Problem({ text }: { text: string | null }) {
  return text ? (
    <p className="problem" role="alert">
      {text}
    </p>
  ) : null;
}

/** A button the key's role may not use: disabled, with a tooltip and an accessible description saying why. */
export function Guarded({
  refused,
  onClick,
  children,
  className,
}: {
  refused: string | null;
  onClick: () => void;
  children: ReactNode;
  className?: string;
}) {
  return (
    <button
      type="button"
      className={className}
      disabled={refused !== null}
      title={refused ?? undefined}
      aria-description={refused ?? undefined}
      onClick={onClick}
    >
      {children}
    </button>
  );
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}
