import { ApiPropertyOptional } from '@nestjs/swagger';
import { budgetSchema, schemaValidator } from '@orchestron/definitions';
import type { Budget } from '@orchestron/definitions';
import { Allow } from 'class-validator';
import { RequestError } from './errors.ts';

const validateBudget = schemaValidator(budgetSchema);

/** The first problem with a budget, naming its field (`budget.cost.currency must match …`), or null. */
export function budgetProblem(field: string, value: unknown): string | null {
  if (validateBudget(value)) return null;
  const error = validateBudget.errors?.[0];
  if (error === undefined) return `"${field}" is not a valid budget`;
  const at = `${field}${error.instancePath.replaceAll('/', '.')}`;
  if (error.keyword === 'additionalProperties')
    return `"${at}" has an unknown field "${String(error.params['additionalProperty'])}" (a budget has tokens and cost { amount, currency })`;
  if (error.keyword === 'minProperties') return `"${field}" needs "tokens", "cost" or both`;
  return `"${at}" ${error.message ?? error.keyword}`;
}

/**
 * A `budget` field of a body: `{ tokens?, cost?: { amount, currency } }`. Free-form JSON to the validation pipe (it
 * validates a stand-in of an object field), so `checkedBudget` checks it against the definition schema's.
 */
export const BudgetField = (description: string): PropertyDecorator[] => [
  Allow(),
  ApiPropertyOptional({ ...(budgetSchema as object), description }),
];

/** The budget, or a REQUEST.INVALID naming the bad field. */
export function checkedBudget(field: string, value: unknown): Budget {
  const problem = budgetProblem(field, value);
  if (problem !== null) throw new RequestError('REQUEST.INVALID', problem, { field });
  return value as Budget;
}
