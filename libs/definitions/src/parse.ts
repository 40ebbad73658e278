import { parseDocument } from 'yaml';
import { DefinitionInvalidError } from './errors.ts';

/**
 * Reads a definition written as YAML or JSON (JSON is YAML, but a leading `{` gets JSON's stricter parser
 * so its error positions are JSON's). Syntax errors name the line and column.
 */
export function parseDefinitionText(text: string, sourceName = 'definition'): unknown {
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new DefinitionInvalidError(
        [{ path: '', message: `not valid JSON: ${(error as Error).message}` }],
        sourceName,
      );
    }
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new DefinitionInvalidError(
      doc.errors.map((e) => ({
        path: '',
        message: `YAML ${e.code}: ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}`,
      })),
      sourceName,
    );
  }
  return doc.toJS({ maxAliasCount: 50 }) as unknown;
}
