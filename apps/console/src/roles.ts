import type { Role } from './types.ts';

/** The roles the API admits for each kind of call (apps/server auth.guard.ts); the API stays the judge. */
const OPERATORS: readonly Role[] = ['operator', 'admin'];
const HISTORY_READERS: readonly Role[] = ['operator', 'auditor', 'admin'];
const DEFINITION_WRITERS: readonly Role[] = ['operator', 'admin'];

export type Right = 'act' | 'history' | 'register' | 'replay';

const NEEDS: Readonly<Record<Right, readonly Role[]>> = {
  act: OPERATORS,
  history: HISTORY_READERS,
  register: DEFINITION_WRITERS,
  replay: OPERATORS,
};

const WHAT: Readonly<Record<Right, string>> = {
  act: 'act on runs',
  history: "read a run's history",
  register: 'register definitions',
  replay: 'replay dead letters',
};

/** Why a role may not do something, or null when it may: a disabled button's tooltip. */
export function refusal(role: Role, right: Right): string | null {
  const needs = NEEDS[right];
  if (needs.includes(role)) return null;
  return `${/^[aeiou]/.test(role) ? 'An' : 'A'} ${role} key may not ${WHAT[right]}: it needs an ${needs.join(' or ')} key.`;
}
