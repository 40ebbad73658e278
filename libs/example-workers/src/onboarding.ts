import type { StepHandler } from '@orchestron/worker-sdk';
import { digest, field } from './simulate.ts';
import type { Simulated } from './simulate.ts';

/** The workers of examples/employee-onboarding.yaml. */
export function onboardingHandlers(
  simulated: Simulated,
): Record<'identity' | 'iam' | 'mail' | 'workspace' | 'chat', Record<string, StepHandler>> {
  const undone =
    (name: string) =>
    (input: unknown): unknown =>
      (input as { output?: Record<string, unknown> } | null)?.output?.[name] ?? null;
  return {
    identity: {
      execute: simulated((ctx) => ({
        accountId: `acc-${digest(field(ctx.input, 'email'))}`,
        email: field(ctx.input, 'email'),
      })),
      'delete-account': simulated((ctx) => ({ deleted: undone('accountId')(ctx.input) })),
    },
    iam: { execute: simulated(() => ({ roles: ['employee'] })) },
    mail: {
      execute: simulated((ctx) => ({ messageId: `msg-${digest(ctx.idempotencyKey)}`, to: field(ctx.input, 'to') })),
    },
    workspace: {
      execute: simulated((ctx) => ({ workspaceId: `ws-${digest(field(ctx.input, 'owner'))}` })),
      'delete-workspace': simulated((ctx) => ({ deleted: undone('workspaceId')(ctx.input) })),
    },
    chat: { execute: simulated((ctx) => ({ posted: true, message: field(ctx.input, 'message') })) },
  };
}
