import stringify from 'safe-stable-stringify';
import { WireFormatError } from '@orchestron/bus';
import type { OperatorCommandMessage, StepEventMessage } from '@orchestron/bus';
import type { RunCommand } from './run-service.ts';

/** A worker's report as the command the decider takes. */
export function reportCommand(report: StepEventMessage): RunCommand {
  const base = { stepId: report.stepId, attempt: report.attempt, phase: report.phase };
  const used = 'usage' in report && report.usage !== undefined ? { usage: report.usage } : {};
  switch (report.type) {
    case 'step.started':
      return { type: 'RecordStepStarted', data: base };
    case 'step.heartbeat':
      return { type: 'RecordStepHeartbeat', data: base };
    case 'step.completed':
      return { type: 'RecordStepCompleted', data: { ...base, output: report.output ?? null, ...used } };
    case 'step.failed':
      return {
        type: 'RecordStepFailed',
        data: {
          ...base,
          error: {
            code: report.error.code ?? 'STEP.FAILED',
            message: report.error.message,
            retryable: report.error.retryable !== false,
          },
          ...used,
        },
      };
  }
}

/** The commands an operator may send over the bus; anything else (a forged step report, say) is refused. */
const OPERATOR_COMMANDS: ReadonlySet<string> = new Set([
  'Approve',
  'Reject',
  'Pause',
  'Resume',
  'RetryStep',
  'SkipStep',
  'Compensate',
  'Cancel',
  'Redrive',
  'RaiseBudget',
]);

export function operatorCommand(message: OperatorCommandMessage): RunCommand {
  if (!OPERATOR_COMMANDS.has(message.command.type)) {
    throw new WireFormatError(
      `operator.command ${message.commandId}: /command/type "${message.command.type}" is not an operator command (one of ${[...OPERATOR_COMMANDS].join(', ')})`,
    );
  }
  return { type: message.command.type, data: message.command.data } as unknown as RunCommand;
}

/** Whether two JSON values are equal whatever their key order (PostgreSQL's jsonb does not keep it). */
export function sameJson(a: unknown, b: unknown): boolean {
  return stringify(a ?? null) === stringify(b ?? null);
}
