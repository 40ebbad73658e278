import { parseDocument } from 'yaml';
import { DefinitionInvalidError } from './errors.ts';
import { checkJsonLimits, JsonLimitError, MAX_JSON_DEPTH, MAX_OBJECT_KEYS, parseLimitedJson } from './json-limits.ts';
import type { JsonLimits } from './json-limits.ts';

/** What the HTTP edge allows a body (json-body.ts): a definition read from a file gets no more room. */
const LIMITS: JsonLimits = {
  maxDepth: MAX_JSON_DEPTH,
  maxKeys: MAX_OBJECT_KEYS,
  forbidPrototypeKeys: true,
  subject: 'the definition',
};
/** Aliases one document may expand: a handful is plenty for shared settings, millions is an alias bomb. */
const MAX_ALIAS_COUNT = 50;

/**
 * Reads a definition written as YAML or JSON (JSON is YAML, but a leading `{` gets JSON's stricter parser
 * so its error positions are JSON's). Syntax errors name the line and column. Every refusal, a syntax error or a
 * limit (nesting, alias expansion, prototype keys, non-finite numbers), is a DefinitionInvalidError: bad input,
 * never a crash of whoever reads the file.
 */
export function parseDefinitionText(text: string, sourceName = 'definition'): unknown {
  const refuse = (message: string): DefinitionInvalidError =>
    new DefinitionInvalidError([{ path: '', message }], sourceName);
  if (text.trimStart().startsWith('{')) {
    try {
      return parseLimitedJson(text, LIMITS);
    } catch (error) {
      if (error instanceof JsonLimitError)
        throw refuse(error.limit === 'syntax' ? `not valid JSON: ${syntaxReason(error)}` : error.message);
      throw error;
    }
  }
  let doc: ReturnType<typeof parseDocument>;
  try {
    // yaml reports nesting too deep for its stack as a RESOURCE_EXHAUSTION error of the document, not a throw;
    // anything it throws all the same is refused the same way.
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    throw refuse(`YAML refused: ${(error as Error).message}`);
  }
  if (doc.errors.length > 0) {
    throw new DefinitionInvalidError(
      doc.errors.map((e) => ({
        path: '',
        message: `YAML ${e.code}: ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}`,
      })),
      sourceName,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml throws a ReferenceError for an alias bomb ("Excessive alias count …").
    throw refuse(`YAML refused: ${(error as Error).message} (at most ${MAX_ALIAS_COUNT} alias expansions)`);
  }
  try {
    checkJsonLimits(value, LIMITS);
  } catch (error) {
    if (error instanceof JsonLimitError) throw refuse(error.message);
    throw error;
  }
  return value;
}

function syntaxReason(error: JsonLimitError): string {
  return error.message.replace(/^the definition is not JSON: /, '');
}
