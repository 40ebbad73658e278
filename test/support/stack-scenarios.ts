// The mix of runs the stack e2e test starts, and what each must end as, predicted from its input alone by the rules
// of examples/*.yaml, examples/policies/*.cedar and the example workers' `simulate` modes.

export type Outcome = 'completed' | 'compensated' | 'failed';
export type Category = 'completed' | 'compensated' | 'failed(denied)' | 'failed(terminal)';

export interface Expectation {
  readonly status: Outcome;
  readonly category: Category;
  /** Step ids whose gate the test approves, once each. */
  readonly approvals: readonly string[];
  /** The step and error code the run fails or is compensated for, and the policy behind a denial. */
  readonly failure: { readonly stepId: string; readonly code: string; readonly policyId?: string } | null;
  /** Steps whose first attempt fails and which must show a later attempt. */
  readonly retried: readonly string[];
  /** Completed steps whose compensation must have completed. */
  readonly compensated: readonly string[];
}

export interface PlannedRun {
  readonly key: string;
  readonly definitionId: 'employee-onboarding' | 'vendor-payment';
  readonly input: Record<string, unknown>;
  readonly expected: Expectation;
}

type Simulate = Record<string, 'fail-once' | 'fail-always' | 'fail-terminal' | 'slow'>;
interface OnboardingInput {
  email: string;
  contractor?: boolean;
  manager?: boolean;
  simulate?: Simulate;
}

const ONBOARDING_STEPS = [
  'create-account',
  'assign-permissions',
  'send-welcome',
  'create-workspace',
  'notify-team',
] as const;
const RETRYABLE_FAILURE: Record<string, string> = {
  'fail-always': 'SIMULATED.FAIL_ALWAYS',
  'fail-terminal': 'SIMULATED.TERMINAL',
};

/** employee-onboarding: governance first, then the workers' simulated failures, then the gates. */
export function predictOnboarding(input: OnboardingInput): Expectation {
  const simulate = input.simulate ?? {};
  const retried = ONBOARDING_STEPS.filter((step) => simulate[step] === 'fail-once');
  // blocked-domain is a hard forbid: it wins over contractor-needs-approval, so no gate opens.
  if (input.email.endsWith('@blocked.example')) {
    return {
      status: 'failed',
      category: 'failed(denied)',
      approvals: [],
      failure: { stepId: 'create-account', code: 'GOVERNANCE.DENIED', policyId: 'blocked-domain' },
      retried: [],
      compensated: [],
    };
  }
  const gates = input.contractor === true ? ['create-account'] : [];
  const failing = ONBOARDING_STEPS.find(
    (step) => simulate[step] === 'fail-always' || simulate[step] === 'fail-terminal',
  );
  if (failing === undefined) {
    return {
      status: 'completed',
      category: 'completed',
      approvals: input.manager === true ? [...gates, 'budget-approval'] : gates,
      failure: null,
      retried,
      compensated: [],
    };
  }
  if (input.manager === true) {
    // Whether budget-approval opens before the failure cancels it is a race: such a run has no single outcome to predict.
    throw new Error(
      `predictOnboarding: a manager run with a failing step (${failing}) has no predictable approval count; leave it out of the mix`,
    );
  }
  const failure = { stepId: failing, code: RETRYABLE_FAILURE[simulate[failing] as string] as string };
  // With nothing completed that declares a compensation, the run fails instead of being compensated.
  if (failing === 'create-account')
    return { status: 'failed', category: 'failed(terminal)', approvals: gates, failure, retried, compensated: [] };
  // create-workspace runs beside the failing step; only when notify-team fails is it sure to have completed first.
  const compensated = failing === 'notify-team' ? ['create-account', 'create-workspace'] : ['create-account'];
  return { status: 'compensated', category: 'compensated', approvals: gates, failure, retried, compensated };
}

/** vendor-payment: payment-over-limit asks for approval above 1000. */
export function predictPayment(input: { vendor: string; amount: number }): Expectation {
  return {
    status: 'completed',
    category: 'completed',
    approvals: input.amount > 1000 ? ['pay-vendor'] : [],
    failure: null,
    retried: [],
    compensated: [],
  };
}

const ONBOARDING_MIX: readonly Omit<OnboardingInput, 'email'>[] = [
  {},
  {},
  { simulate: { 'send-welcome': 'fail-once' } },
  { simulate: { 'create-account': 'fail-once', 'notify-team': 'fail-once' } },
  { simulate: { 'create-workspace': 'fail-always' } },
  { simulate: { 'assign-permissions': 'fail-terminal' } },
  { simulate: { 'notify-team': 'fail-terminal' } },
  { simulate: { 'create-account': 'fail-terminal' } },
  { contractor: true },
  { manager: true },
  { contractor: true, manager: true, simulate: { 'send-welcome': 'fail-once' } },
];
// Denials need a blocked address; one of them is also a contractor, to check the hard forbid wins.
const DENIED_MIX: readonly Omit<OnboardingInput, 'email'>[] = [{}, { contractor: true }];

export interface MixOptions {
  /** Prefix of idempotency keys and e-mail addresses, unique per test run. */
  readonly prefix: string;
  readonly onboarding: number;
  readonly payments: number;
  /** Extra inputs mixed in, e.g. `slow` steps that keep a worker busy when it is killed. */
  readonly extra?: readonly Omit<OnboardingInput, 'email'>[];
}

/**
 * `onboarding` runs cycling through the mix (denials included) and `payments` vendor payments (every third over the
 * limit), the payments spread evenly among the onboarding runs so both are in flight together.
 */
export function planRuns({ prefix, onboarding, payments, extra = [] }: MixOptions): PlannedRun[] {
  const mix = [...ONBOARDING_MIX, ...extra];
  const cycle = mix.length + DENIED_MIX.length;
  const onboardingRuns: PlannedRun[] = [];
  for (let i = 0; i < onboarding; i++) {
    const slot = i % cycle;
    const denied = slot >= mix.length;
    const shape = denied ? DENIED_MIX[slot - mix.length] : mix[slot];
    const input: OnboardingInput = { email: `${prefix}-${i}@${denied ? 'blocked.example' : 'example.com'}`, ...shape };
    onboardingRuns.push({
      key: `${prefix}-onboarding-${i}`,
      definitionId: 'employee-onboarding',
      input: { ...input },
      expected: predictOnboarding(input),
    });
  }
  const paymentRuns: PlannedRun[] = [];
  for (let i = 0; i < payments; i++) {
    const input = {
      vendor: `vendor-${i % 7}`,
      amount: i % 3 === 0 ? 1500 + i : 100 + i,
      invoiceId: `${prefix}-inv-${i}`,
    };
    paymentRuns.push({
      key: `${prefix}-payment-${i}`,
      definitionId: 'vendor-payment',
      input,
      expected: predictPayment(input),
    });
  }
  const every = payments === 0 ? Infinity : Math.max(1, Math.floor(onboarding / payments));
  const runs: PlannedRun[] = [];
  onboardingRuns.forEach((run, i) => {
    runs.push(run);
    if ((i + 1) % every === 0 && paymentRuns.length > 0) runs.push(paymentRuns.shift() as PlannedRun);
  });
  return [...runs, ...paymentRuns];
}
