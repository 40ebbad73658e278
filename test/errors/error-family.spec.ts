import { describe, expect, it } from '@jest/globals';
import { WireFormatError } from '@orchestron/bus';
import { KafkaBusError } from '@orchestron/bus-kafka';
import {
  ApiError,
  KafkaUnreachableError,
  LocalDefinitionError,
  ServerUnreachableError,
  UsageError,
  WaitTimeoutError,
} from '@orchestron/cli';
import {
  DefinitionInvalidError,
  ExpressionBudgetError,
  ExpressionError,
  JsonLimitError,
} from '@orchestron/definitions';
import { isErrorCode, OrchestronError, retryClassOf } from '@orchestron/errors';
import {
  CheckpointCorruptError,
  EventStoreClosedError,
  EventStoreUnavailableError,
  ExpectedVersionConflictError,
} from '@orchestron/event-store';
import { PolicyError, UnevaluableRequestError } from '@orchestron/policy';
import { DefinitionError, OrchestratorPendingError } from '@orchestron/runtime';
import { AttemptCancelledError, RetryableError, TerminalError } from '@orchestron/worker-sdk';
import { DomainError } from '@orchestron/workflow-core';
import { KeyError, RequestError } from '@orchestron/server';

/** One of each error Orchestron throws, with the code and name clients and docs match on. */
const FAMILY: ReadonlyArray<[error: OrchestronError<string>, code: string, name: string]> = [
  [new DomainError('RUN.NOT_FOUND', 'no run r1', { runId: 'r1' }), 'RUN.NOT_FOUND', 'DomainError'],
  [new DefinitionInvalidError([{ path: '/id', message: 'required' }]), 'DEFINITION.INVALID', 'DefinitionInvalidError'],
  [new ExpressionError('input.x +', 'does not parse'), 'EXPRESSION.INVALID', 'ExpressionError'],
  [
    new ExpressionBudgetError('input.items.map(x, x)', 'operations', 10_000, 'operations'),
    'EXPRESSION.BUDGET_EXCEEDED',
    'ExpressionBudgetError',
  ],
  [new JsonLimitError('depth', 'too deep', { max: 64 }), 'JSON.INVALID', 'JsonLimitError'],
  [new PolicyError([{ source: 'a.cedar', message: 'bad' }]), 'POLICY.INVALID', 'PolicyError'],
  [new UnevaluableRequestError('context.input', 'lone surrogate'), 'GOVERNANCE.UNEVALUABLE', 'UnevaluableRequestError'],
  [new ExpectedVersionConflictError('run-1', 2, 3), 'STORE.EXPECTED_VERSION_CONFLICT', 'ExpectedVersionConflictError'],
  [new EventStoreUnavailableError('disk full'), 'STORE.UNAVAILABLE', 'EventStoreUnavailableError'],
  [new EventStoreClosedError(), 'STORE.CLOSED', 'EventStoreClosedError'],
  [new CheckpointCorruptError('read-side', 'digest'), 'STORE.CHECKPOINT_CORRUPT', 'CheckpointCorruptError'],
  [new WireFormatError('not a step event'), 'WIRE.INVALID', 'WireFormatError'],
  [new KafkaBusError('BUS.UNAVAILABLE', 'broker away'), 'BUS.UNAVAILABLE', 'KafkaBusError'],
  [new KafkaBusError('BUS.PUBLISH_FAILED', 'refused'), 'BUS.PUBLISH_FAILED', 'KafkaBusError'],
  [new KafkaBusError('BUS.CLOSED', 'closed'), 'BUS.CLOSED', 'KafkaBusError'],
  [new TerminalError('no'), 'STEP.TERMINAL', 'TerminalError'],
  [new RetryableError('later'), 'STEP.RETRYABLE', 'RetryableError'],
  [new AttemptCancelledError('deadline', 'too late'), 'STEP.DEADLINE_EXCEEDED', 'AttemptCancelledError'],
  [new AttemptCancelledError('shutdown', 'stopping'), 'WORKER.SHUTDOWN', 'AttemptCancelledError'],
  [new DefinitionError('DEFINITION.NOT_FOUND', 'no definition d'), 'DEFINITION.NOT_FOUND', 'DefinitionError'],
  [
    new OrchestratorPendingError('not recorded yet', { runId: 'r1' }),
    'ORCHESTRATOR.PENDING',
    'OrchestratorPendingError',
  ],
  [new KeyError('KEY.NOT_FOUND', 'no key k1'), 'KEY.NOT_FOUND', 'KeyError'],
  [new RequestError('AUTH.FORBIDDEN', 'no'), 'AUTH.FORBIDDEN', 'RequestError'],
  [new UsageError('bad option'), 'CLI.USAGE', 'UsageError'],
  [new LocalDefinitionError('flow.yaml', []), 'DEFINITION.INVALID', 'LocalDefinitionError'],
  [
    new ServerUnreachableError('http://localhost:3000', 'ECONNREFUSED'),
    'CLI.SERVER_UNREACHABLE',
    'ServerUnreachableError',
  ],
  [new KafkaUnreachableError(['localhost:9092'], 'ECONNREFUSED'), 'CLI.KAFKA_UNREACHABLE', 'KafkaUnreachableError'],
  [new WaitTimeoutError('r1', 30, 'running'), 'CLI.WAIT_TIMEOUT', 'WaitTimeoutError'],
];

describe('the error family', () => {
  it.each(FAMILY.map(([error, code, name]) => [name, code, error] as const))(
    '%s (%s) is an OrchestronError with its code and name',
    (name, code, error) => {
      expect(error).toBeInstanceOf(OrchestronError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
    },
  );

  it.each(FAMILY.map(([error, code]) => [code, error] as const))(
    '%s is an ErrorCode, and the error is as retryable as its code says',
    (code, error) => {
      if (!isErrorCode(code)) throw new Error(`${code} is not in ERROR_CODES`);
      expect(error.retryable).toBe(retryClassOf(code) === 'retryable');
    },
  );

  it('keeps a vendor error as the cause of the one it was translated into', () => {
    const vendor = new Error('ECONNREFUSED 127.0.0.1:5432');
    expect(new EventStoreUnavailableError('postgres event store could not append', { cause: vendor }).cause).toBe(
      vendor,
    );
    expect(new KafkaBusError('BUS.UNAVAILABLE', 'publish: Kafka is unavailable', { cause: vendor }).cause).toBe(vendor);
  });

  it('keeps a subclass a subclass: a budget error is still an expression error', () => {
    expect(new ExpressionBudgetError('x', 'operations', 1, 'operations')).toBeInstanceOf(ExpressionError);
  });

  it('lets a handler name its own code, outside ErrorCode, with the retry class of its class', () => {
    expect(new TerminalError('declined', 'CARD.DECLINED')).toMatchObject({ code: 'CARD.DECLINED', retryable: false });
    expect(new RetryableError('rate limited', 'PAY.RATE_LIMITED')).toMatchObject({
      code: 'PAY.RATE_LIMITED',
      retryable: true,
    });
  });

  it("relays the server's code and retry class in the CLI's ApiError", () => {
    const relayed = new ApiError({
      httpStatus: 503,
      code: 'STORE.UNAVAILABLE',
      message: 'down',
      retryable: true,
      details: null,
      url: 'http://x/v1/runs',
    });
    expect(relayed).toMatchObject({ code: 'STORE.UNAVAILABLE', retryable: true, httpStatus: 503 });
    expect(relayed.details).toBeUndefined();
    const bare = new ApiError({
      httpStatus: 502,
      code: 'HTTP.502',
      message: 'HTTP 502',
      retryable: true,
      details: { a: 1 },
      url: 'http://x',
    });
    expect(bare).toMatchObject({ code: 'HTTP.502', retryable: true, details: { a: 1 } });
  });
});
