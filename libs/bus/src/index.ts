export type { BusMessage, BusSubscription, DeliveredMessage, MessageBus, PartitionLag, SubscribeOptions, TopicPartition } from './bus.ts';
export { Topics } from './bus.ts';
export { createInMemoryBus } from './in-memory-bus.ts';
export type { StepCommandMessage, StepEventMessage } from './wire.ts';
export { parseStepCommandMessage, parseStepEventMessage, WireFormatError, wireParser } from './wire.ts';
export type { GovernanceDecisionMessage, GovernanceRequestMessage, OperatorCommandMessage, WorkflowStartMessage } from './messages.ts';
export {
  governanceDecisionSchema, governanceRequestSchema, operatorCommandSchema, parseGovernanceDecisionMessage, parseGovernanceRequestMessage,
  parseOperatorCommandMessage, parseWorkflowStartMessage, workflowStartSchema,
} from './messages.ts';
export { stepCommandSchema, stepEventSchema } from './wire.ts';
