export type {
  BusMessage,
  BusSubscription,
  DeliveredMessage,
  MessageBus,
  PartitionLag,
  SubscribeOptions,
  TopicPartition,
} from './bus.ts';
export { TOPIC_PREFIX_ENV, Topics, topicNames, validateTopicPrefix } from './topics.ts';
export type { TopicNames } from './topics.ts';
export { createInMemoryBus } from './in-memory-bus.ts';
export type { StepCommandMessage, StepEventMessage, StepUsage } from './wire.ts';
export { parseStepCommandMessage, parseStepEventMessage, WireFormatError, wireParser } from './wire.ts';
export type {
  GovernanceDecisionMessage,
  GovernanceRequestMessage,
  OperatorCommandMessage,
  WorkflowStartMessage,
} from './messages.ts';
export {
  governanceDecisionSchema,
  governanceRequestSchema,
  operatorCommandSchema,
  parseGovernanceDecisionMessage,
  parseGovernanceRequestMessage,
  parseOperatorCommandMessage,
  parseWorkflowStartMessage,
  workflowStartSchema,
} from './messages.ts';
export { MAX_REPORTED_TOKENS, stepCommandSchema, stepEventSchema, stepUsageSchema } from './wire.ts';
export type { ExternalEventMessage } from './external-events.ts';
export {
  DEFAULT_EVENT_BUFFER_MS,
  externalEventKey,
  externalEventSchema,
  MAX_EVENT_ID,
  MAX_EVENT_KEY,
  MAX_EVENT_NAME,
  MAX_EVENT_PAYLOAD_BYTES,
  parseExternalEventMessage,
} from './external-events.ts';
