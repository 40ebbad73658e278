import { TerminalError } from '@orchestron/worker-sdk';
import type { StepHandler } from '@orchestron/worker-sdk';
import { digest, field } from './simulate.ts';
import type { Simulated } from './simulate.ts';

const CONDITIONS = ['asthma', 'hypertension', 'type 2 diabetes', 'migraine', 'none recorded'];
const ALLERGIES = ['penicillin', 'peanuts', 'latex', 'none known'];

/** The `records` worker of examples/patient-record-access.yaml: a fake, deterministic health record per patientId. */
export function recordsHandlers(simulated: Simulated): Record<string, StepHandler> {
  const read = simulated((ctx) => {
    const patientId = field(ctx.input, 'patientId');
    if (patientId === '')
      throw new TerminalError('read-patient-record: input.patientId is required', 'RECORDS.PATIENT_ID_REQUIRED');
    const seed = parseInt(digest(patientId), 16);
    return {
      patientId,
      recordId: `rec-${digest(`record/${patientId}`)}`,
      birthYear: 1940 + (seed % 60),
      conditions: [CONDITIONS[seed % CONDITIONS.length]],
      allergies: [ALLERGIES[seed % ALLERGIES.length]],
      purpose: field(ctx.input, 'purpose') || null,
      synthetic: true,
    };
  });
  // The worker has one action, so a step that names none means it too.
  return { 'read-patient-record': read, execute: read };
}
