// Child process for the crash test: appends forever and prints each acknowledged position, one JSON line per
// append, only after `append` resolved. The parent kills it with SIGKILL and checks every printed ack survived.
import { createSqliteEventStore } from '../index.ts';

const WRITERS = 4;
const FILLER = 'payload-'.repeat(64);

const path = process.argv[2];
if (path === undefined) throw new Error('usage: node crash-writer.ts <database-path>');
const store = createSqliteEventStore({ path });

async function write(writer: number): Promise<never> {
  for (let index = 0; ; index += 1) {
    const data = { writer, index, filler: FILLER };
    const { position } = await store.append(`crash-${writer}`, [{ type: 'Ticked', data }], {
      expectedRevision: index === 0 ? 'no_stream' : index - 1,
    });
    // Writes to a pipe are synchronous on POSIX, so a printed ack is an ack the parent will read.
    process.stdout.write(`${JSON.stringify({ position, writer, index })}\n`);
  }
}

await Promise.all(Array.from({ length: WRITERS }, (_, writer) => write(writer)));
