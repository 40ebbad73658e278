import { TerminalError } from '@orchestron/worker-sdk';
import type { StepHandler } from '@orchestron/worker-sdk';
import { digest, field } from './simulate.ts';
import type { Simulated } from './simulate.ts';

/**
 * The `payments` worker of examples/vendor-payment.yaml: `validate-invoice`, `charge` and its compensation
 * `refund`. Ids derive from the idempotency key, so a charge redone under the same key names the same payment,
 * as a real payment provider's idempotency key would.
 */
export function paymentsHandlers(simulated: Simulated): Record<string, StepHandler> {
  return {
    'validate-invoice': simulated((ctx) => {
      const { vendor, amount } = invoice(ctx.input);
      const invoiceId = field(ctx.input, 'invoiceId') || `inv-${digest(`${ctx.runId}/${vendor}/${amount}`)}`;
      return { invoiceId, vendor, amount, currency: field(ctx.input, 'currency') || 'EUR', valid: true };
    }),
    charge: simulated((ctx) => {
      const { vendor, amount } = invoice(ctx.input);
      return { paymentId: `pay-${digest(ctx.idempotencyKey)}`, vendor, amount, status: 'charged' };
    }),
    refund: simulated((ctx) => {
      // The default compensation input is `{ input, output }` of the charge; a mapped one may name paymentId itself.
      const input = ctx.input as { paymentId?: unknown; output?: { paymentId?: unknown; amount?: unknown } } | null;
      const paymentId = input?.output?.paymentId ?? input?.paymentId;
      if (typeof paymentId !== 'string' || paymentId === '')
        throw new TerminalError(
          'refund: the input names no paymentId (neither output.paymentId nor paymentId)',
          'PAYMENTS.NOTHING_TO_REFUND',
        );
      return {
        refundId: `ref-${digest(ctx.idempotencyKey)}`,
        paymentId,
        amount: input?.output?.amount ?? null,
        status: 'refunded',
      };
    }),
  };
}

function invoice(input: unknown): { vendor: string; amount: number } {
  const vendor = field(input, 'vendor');
  if (vendor === '') throw new TerminalError('invoice: vendor must be a non-empty string', 'PAYMENTS.INVALID_INVOICE');
  const amount = (input as { amount?: unknown } | null)?.amount;
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) {
    throw new TerminalError(
      `invoice: amount must be a positive number, got ${JSON.stringify(amount ?? null)}`,
      'PAYMENTS.INVALID_INVOICE',
    );
  }
  return { vendor, amount };
}
