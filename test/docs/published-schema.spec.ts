import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { definitionSchema } from '@orchestron/definitions';

describe('the published definition schema', () => {
  it('equals the schema definitions are validated with (run `npm run schema:write` after changing it)', () => {
    const published = JSON.parse(
      readFileSync(new URL('../../docs/definition.schema.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(published).toEqual(JSON.parse(JSON.stringify(definitionSchema)));
  });
});
