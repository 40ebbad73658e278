/** The variable a deployment sets to give its topics and consumer groups a prefix (`acme.`). */
export const TOPIC_PREFIX_ENV = 'ORCHESTRON_TOPIC_PREFIX';

/** Kafka's limit on a topic name. */
const MAX_TOPIC_LENGTH = 249;
/** The longest fixed name (`commands(worker)` grows with the worker's name, which the definition chooses). */
const LONGEST_FIXED = 'orchestron.governance.decisions';
const TOPIC_CHARS = /^[a-zA-Z0-9._-]*$/;

/** Every topic name and consumer group of one deployment: the same prefix on each, so two stacks can share a broker. */
export interface TopicNames {
  readonly prefix: string;
  readonly workflowStarts: string;
  readonly stepEvents: string;
  readonly governanceRequests: string;
  readonly governanceDecisions: string;
  readonly operatorCommands: string;
  /** Events from outside for the runs waiting for them (`type: event` steps). */
  readonly externalEvents: string;
  readonly deadLetters: string;
  commands(worker: string): string;
  /** A consumer group name (`orchestron-orchestrator` → `acme.orchestron-orchestrator`). */
  group(name: string): string;
}

/** Throws, naming ORCHESTRON_TOPIC_PREFIX, when the prefix has a character Kafka refuses or makes a name too long. */
export function validateTopicPrefix(prefix: string): string {
  if (!TOPIC_CHARS.test(prefix)) {
    throw new Error(
      `${TOPIC_PREFIX_ENV} "${prefix}" may hold only letters, digits, ".", "_" and "-" (Kafka topic characters)`,
    );
  }
  const longest = prefix.length + LONGEST_FIXED.length;
  if (longest > MAX_TOPIC_LENGTH) {
    throw new Error(
      `${TOPIC_PREFIX_ENV} is ${prefix.length} characters long: with it, ${LONGEST_FIXED} would be ${longest}, over Kafka's ${MAX_TOPIC_LENGTH}`,
    );
  }
  return prefix;
}

export function topicNames(prefix = ''): TopicNames {
  validateTopicPrefix(prefix);
  return {
    prefix,
    workflowStarts: `${prefix}orchestron.workflow.starts`,
    stepEvents: `${prefix}orchestron.step.events`,
    governanceRequests: `${prefix}orchestron.governance.requests`,
    governanceDecisions: `${prefix}orchestron.governance.decisions`,
    operatorCommands: `${prefix}orchestron.operator.commands`,
    externalEvents: `${prefix}orchestron.external.events`,
    deadLetters: `${prefix}orchestron.dlq`,
    commands: (worker: string): string => `${prefix}orchestron.commands.${worker}`,
    group: (name: string): string => `${prefix}${name}`,
  };
}

/**
 * The prefix this process was started with. Read once, here, rather than passed down: NestJS binds handlers to topics
 * with decorators when a controller's module is imported (`EventPattern(Topics.governanceRequests)`), before any
 * main() could pass configuration, and some 45 call sites across ten libs name topics through `Topics`.
 */
function prefixFromEnvironment(): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.[TOPIC_PREFIX_ENV] ?? '';
}

/** This deployment's topic names and groups (prefixed with ORCHESTRON_TOPIC_PREFIX, when set). */
export const Topics: TopicNames = topicNames(prefixFromEnvironment());
