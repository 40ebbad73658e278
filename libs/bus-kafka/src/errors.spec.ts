import { describe, expect, it } from '@jest/globals';
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  TimeoutError,
  UserError,
} from '@platformatic/kafka';
import { KafkaBusError, translateKafkaError } from './errors.ts';

const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
const unreachable = (): Error => new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: refused() });
/** What the client throws once it has used up its retries: one error per attempt. */
const retriesOf = (operation: string, ...attempts: Error[]): Error =>
  new MultipleErrors(`${operation} failed ${attempts.length} times.`, attempts);
const publishing = (error: unknown): KafkaBusError => translateKafkaError(error, 'publish', 'BUS.PUBLISH_FAILED');

describe('translateKafkaError: an outage is BUS.UNAVAILABLE, a refusal keeps the failure code', () => {
  it('a broker that is not listening is unavailable, however deep the retries nest it', () => {
    const error = publishing(
      new MultipleErrors('Producing messages failed.', [
        retriesOf('initProducerId', new MultipleErrors('Cannot connect to any broker.', [unreachable()])),
      ]),
    );
    expect(error).toMatchObject({ code: 'BUS.UNAVAILABLE', retryable: true });
    expect(error.message).toMatch(/^publish: Kafka is unavailable \(.*initProducerId failed 1 times/);
  });

  it.each(['BROKER_NOT_AVAILABLE', 'UNKNOWN_SERVER_ERROR', 'COORDINATOR_LOAD_IN_PROGRESS', 'NOT_ENOUGH_REPLICAS'])(
    'a restarting broker answering %s is unavailable, whatever the client says about retrying it',
    (answer) => {
      expect(publishing(retriesOf('initProducerId', unreachable(), new ProtocolError(answer))).code).toBe(
        'BUS.UNAVAILABLE',
      );
    },
  );

  it('a timeout is unavailable', () => {
    expect(publishing(new TimeoutError('Request timed out.')).code).toBe('BUS.UNAVAILABLE');
  });

  it.each(['MESSAGE_TOO_LARGE', 'INVALID_RECORD', 'TOPIC_AUTHORIZATION_FAILED'])(
    'a record or request the broker refuses (%s) is not retried, even among network failures',
    (answer) => {
      const error = publishing(retriesOf('produce', unreachable(), new ProtocolError(answer)));
      expect(error).toMatchObject({ code: 'BUS.PUBLISH_FAILED', retryable: false });
    },
  );

  it('bad credentials and bad calls are refusals', () => {
    expect(publishing(new AuthenticationError('SASL failed')).code).toBe('BUS.PUBLISH_FAILED');
    expect(publishing(new UserError('/messages must be array')).code).toBe('BUS.PUBLISH_FAILED');
  });

  it('what it cannot tell keeps the failure code, with the detail in the message', () => {
    expect(publishing(new TypeError('boom'))).toMatchObject({ code: 'BUS.PUBLISH_FAILED', message: 'publish: boom' });
    expect(publishing('not even an error').code).toBe('BUS.PUBLISH_FAILED');
    expect(publishing(new MultipleErrors('nothing inside', [])).code).toBe('BUS.PUBLISH_FAILED');
  });

  it('keeps the client error as the cause, and passes its own errors through', () => {
    const cause = unreachable();
    expect(publishing(cause).cause).toBe(cause);
    const own = new KafkaBusError('BUS.CLOSED', 'closed');
    expect(publishing(own)).toBe(own);
  });
});
