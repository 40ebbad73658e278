// Writes docs/definition.schema.json from the schema the code validates with; a test keeps them equal.
import { writeFileSync } from 'node:fs';
import { definitionSchema } from '@orchestron/definitions';

writeFileSync(
  new URL('../docs/definition.schema.json', import.meta.url),
  `${JSON.stringify(definitionSchema, null, 2)}\n`,
);
process.stdout.write('wrote docs/definition.schema.json\n');
