import { Option } from 'commander';
import { UsageError } from '../cli.errors.ts';
import { publishRaw, readTopic, resolveBrokers } from '../kafka-topic.ts';
import { printJson } from '../output.ts';
import type { CliContext } from '../cli.context.ts';
import type { RawOutgoing, TopicRecord } from '../kafka-topic.ts';
import type { Command } from 'commander';
import { Topics } from '@orchestron/bus';
// Type only: the CLI reads exactly what the Kafka bus writes, without loading the bus.
import type { DeadLetterRecord as DeadLetter } from '@orchestron/bus-kafka';

/** `orchestron.dlq`, behind ORCHESTRON_TOPIC_PREFIX when the stack has one. */
const DEFAULT_DLQ_TOPIC = Topics.deadLetters;
const DEFAULT_LIMIT = 50;
const PREVIEW_CHARS = 60;

/** A dead letter and where it sits in the DLQ topic. */
interface Located {
  readonly dlqPartition: number;
  readonly dlqOffset: number;
  readonly letter: DeadLetter;
}

interface KafkaOptions {
  readonly brokers?: string;
  readonly dlqTopic: string;
  readonly json?: boolean;
}

interface ListOptions extends KafkaOptions {
  readonly limit: string;
  readonly topic?: string;
}

interface ReplayOptions extends KafkaOptions {
  readonly all?: boolean;
  readonly topic?: string;
  readonly dryRun?: boolean;
}

const ENVIRONMENT = `
The CLI reads and writes Kafka directly (not through the server): --brokers, else $ORCHESTRON_KAFKA_BROKERS,
else 127.0.0.1:9092 (comma-separated host:port). It joins no consumer group and commits nothing, so running
workers are not disturbed. Exits 4 when no broker answers (start the local one with \`npm run kafka:start\`).`;

export function registerDlqCommand(program: Command, ctx: CliContext): void {
  const dlq = program
    .command('dlq')
    .description('inspect and replay dead letters: messages a Kafka subscriber could not handle (topic orchestron.dlq)')
    .addHelpText(
      'after',
      `
Examples:
  $ orchestron dlq list
  $ orchestron dlq replay 0:17
${ENVIRONMENT}
`,
    );

  withKafkaOptions(dlq.command('list'))
    .description('list dead letters, oldest first per DLQ partition, up to the end of the DLQ when the command started')
    .option('--limit <n>', 'print at most this many', String(DEFAULT_LIMIT))
    .option('--topic <topic>', 'only dead letters from this source topic')
    .option('--json', 'one line of JSON per dead letter: the record as written, plus dlqPartition and dlqOffset')
    .addHelpText(
      'after',
      `
Each line: the DLQ position (partition:offset, what \`dlq replay\` takes), the source topic/partition@offset,
the key, why it was dead-lettered, and the start of the original value (when it is text).

Examples:
  $ orchestron dlq list
  $ orchestron dlq list --topic orchestron.events --limit 10
  $ orchestron dlq list --json | jq -r '.reason'
${ENVIRONMENT}
`,
    )
    .action(async (options: ListOptions) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`--limit must be a positive whole number, not "${options.limit}"`);
      const brokers = resolveBrokers(ctx.env, options.brokers);
      const { letters, unreadable } = parseLetters(await readTopic(brokers, options.dlqTopic));
      const chosen = letters.filter((l) => options.topic === undefined || l.letter.topic === options.topic);
      warnUnreadable(ctx, unreadable, options.dlqTopic);
      if (chosen.length === 0) {
        const what = options.topic === undefined ? '' : ` from topic ${options.topic}`;
        ctx.io.err(`no dead letters${what} in ${options.dlqTopic}`);
        ctx.finish({ kind: 'succeeded' });
        return;
      }
      for (const located of chosen.slice(0, limit)) {
        if (options.json)
          printJson(ctx.io, { ...located.letter, dlqPartition: located.dlqPartition, dlqOffset: located.dlqOffset });
        else ctx.io.out(describe(located));
      }
      if (!options.json) {
        const more = chosen.length > limit ? ` (showing the first ${limit}; raise --limit to see more)` : '';
        ctx.io.err(`${chosen.length} dead letter${chosen.length === 1 ? '' : 's'} in ${options.dlqTopic}${more}`);
      }
      ctx.finish({ kind: 'succeeded' });
    });

  withKafkaOptions(dlq.command('replay'))
    .description("republish dead letters' original bytes, with the same key and headers, to the topic they came from")
    .argument('[positions...]', 'DLQ positions as partition:offset, as printed by `orchestron dlq list`')
    .option('--all', 'replay every dead letter (narrow it with --topic)')
    .option('--topic <topic>', 'with --all: only dead letters from this source topic')
    .option('--dry-run', 'print what would be republished, publish nothing')
    .option('--json', 'one line of JSON per dead letter republished')
    .addHelpText(
      'after',
      `
The original value is republished byte for byte (decoded from the letter's base64), so a subscriber that
failed on it sees exactly the same message again; fix the cause first. Replaying does NOT remove anything
from the DLQ (Kafka cannot delete single records): the letters stay listed, and replaying them again
republishes them again.

Exits 2 when a position is not a dead letter in the DLQ (nothing is republished then).

Examples:
  $ orchestron dlq replay 0:17
  $ orchestron dlq replay 0:17 0:18 2:4
  $ orchestron dlq replay --all --topic orchestron.events --dry-run
${ENVIRONMENT}
`,
    )
    .action(async (positions: string[], options: ReplayOptions) => {
      if (options.all && positions.length > 0) throw new UsageError('give either positions or --all, not both');
      if (!options.all && positions.length === 0)
        throw new UsageError(
          'name the dead letters to replay (partition:offset, see `orchestron dlq list`) or pass --all',
        );
      if (!options.all && options.topic !== undefined) throw new UsageError('--topic only narrows --all');
      const wanted = positions.map(parsePosition);
      const brokers = resolveBrokers(ctx.env, options.brokers);
      const { letters, unreadable } = parseLetters(await readTopic(brokers, options.dlqTopic));
      warnUnreadable(ctx, unreadable, options.dlqTopic);
      const chosen = options.all
        ? letters.filter((l) => options.topic === undefined || l.letter.topic === options.topic)
        : pick(letters, wanted, options.dlqTopic);
      const lost = chosen.filter((l) => l.letter.original === null);
      if (lost.length > 0)
        throw new UsageError(
          `cannot replay ${lost.map(position).join(', ')}: the original was too large to keep in the dead letter`,
        );
      if (chosen.length === 0) {
        ctx.io.err(
          `no dead letters${options.topic === undefined ? '' : ` from topic ${options.topic}`} in ${options.dlqTopic}; nothing to replay`,
        );
        ctx.finish({ kind: 'succeeded' });
        return;
      }
      const outgoing = chosen.map(toOutgoing);
      if (!options.dryRun) await publishRaw(brokers, outgoing);
      chosen.forEach((located, i) => {
        const record = outgoing[i];
        if (record === undefined) return;
        if (options.json) {
          printJson(ctx.io, {
            dlqPartition: located.dlqPartition,
            dlqOffset: located.dlqOffset,
            topic: record.topic,
            key: located.letter.key,
            bytes: record.value.length,
            republished: !options.dryRun,
          });
        } else {
          ctx.io.out(
            `${options.dryRun ? 'would republish' : 'republished'} ${position(located)} -> ${record.topic} (key ${JSON.stringify(located.letter.key)}, ${record.value.length} bytes, from ${record.topic}/${located.letter.partition}@${located.letter.offset})`,
          );
        }
      });
      if (!options.json)
        ctx.io.err(
          options.dryRun
            ? `dry run: nothing was published`
            : `the dead letters stay in ${options.dlqTopic}; replaying them again would republish them again`,
        );
      ctx.finish({ kind: 'succeeded' });
    });
}

function withKafkaOptions(command: Command): Command {
  return command
    .option(
      '--brokers <list>',
      'Kafka brokers, comma-separated host:port (default: $ORCHESTRON_KAFKA_BROKERS or 127.0.0.1:9092)',
    )
    .addOption(new Option('--dlq-topic <topic>', 'the dead-letter topic').default(DEFAULT_DLQ_TOPIC).hideHelp());
}

function parsePosition(text: string): { partition: number; offset: number } {
  const match = /^(\d+):(\d+)$/.exec(text);
  if (match === null)
    throw new UsageError(
      `"${text}" is not a DLQ position: expected partition:offset, e.g. 0:17 (see \`orchestron dlq list\`)`,
    );
  return { partition: Number(match[1]), offset: Number(match[2]) };
}

function pick(
  letters: readonly Located[],
  wanted: readonly { partition: number; offset: number }[],
  dlqTopic: string,
): Located[] {
  const byPosition = new Map(letters.map((l) => [position(l), l]));
  const chosen: Located[] = [];
  const missing: string[] = [];
  for (const w of wanted) {
    const key = `${w.partition}:${w.offset}`;
    const found = byPosition.get(key);
    if (found === undefined) missing.push(key);
    else if (!chosen.includes(found)) chosen.push(found);
  }
  if (missing.length > 0)
    throw new UsageError(
      `no dead letter at ${missing.join(', ')} in ${dlqTopic} (see \`orchestron dlq list\`); nothing was republished`,
    );
  return chosen;
}

function position(located: Located): string {
  return `${located.dlqPartition}:${located.dlqOffset}`;
}

function parseLetters(records: readonly TopicRecord[]): { letters: Located[]; unreadable: string[] } {
  const letters: Located[] = [];
  const unreadable: string[] = [];
  for (const record of records) {
    const letter = parseLetter(record.value);
    if (letter === undefined) unreadable.push(`${record.partition}:${record.offset}`);
    else letters.push({ dlqPartition: record.partition, dlqOffset: record.offset, letter });
  }
  return { letters, unreadable };
}

function parseLetter(value: Buffer | null): DeadLetter | undefined {
  if (value === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const l = parsed as Partial<DeadLetter>;
  const ok =
    typeof l.topic === 'string' &&
    typeof l.partition === 'number' &&
    typeof l.offset === 'number' &&
    typeof l.reason === 'string' &&
    (typeof l.original === 'string' || l.original === null) &&
    typeof l.key === 'string';
  if (!ok) return undefined;
  return { ...(l as DeadLetter), headers: typeof l.headers === 'object' && l.headers !== null ? l.headers : {} };
}

function warnUnreadable(ctx: CliContext, unreadable: readonly string[], dlqTopic: string): void {
  if (unreadable.length > 0)
    ctx.io.err(
      `warning: ${unreadable.length} record(s) in ${dlqTopic} are not dead letters and were ignored: ${unreadable.slice(0, 10).join(', ')}${unreadable.length > 10 ? ', …' : ''}`,
    );
}

function toOutgoing(located: Located): RawOutgoing {
  const { letter } = located;
  const headers = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(letter.headers))
    headers.set(Buffer.from(name, 'utf8'), Buffer.from(value, 'utf8'));
  return {
    topic: letter.topic,
    key: Buffer.from(letter.key, 'utf8'),
    value: Buffer.from(letter.original ?? '', 'base64'),
    headers,
  };
}

function describe(located: Located): string {
  const { letter } = located;
  return `${position(located)}  ${letter.topic}/${letter.partition}@${letter.offset}  key=${JSON.stringify(letter.key)}  reason=${JSON.stringify(letter.reason)}  original=${preview(letter.original)}`;
}

/** The original as text when it is printable UTF-8, else its size. */
export function preview(original: string | null): string {
  if (original === null) return '(not kept: too large)';
  const bytes = Buffer.from(original, 'base64');
  const text = bytes.toString('utf8');
  const printable =
    // eslint-disable-next-line no-control-regex
    Buffer.from(text, 'utf8').equals(bytes) && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
  if (!printable) return `(${bytes.length} bytes, binary)`;
  const short = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
  return JSON.stringify(short);
}
