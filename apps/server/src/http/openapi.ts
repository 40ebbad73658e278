import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { ApiPropertyOptions, OpenAPIObject } from '@nestjs/swagger';

export const OPENAPI_PATH = '/v1/openapi.json';

/**
 * A property that holds any JSON value (a run's input, a step's output). OpenAPI says so with a schema without
 * a type, which @nestjs/swagger cannot produce from ApiProperty: it gets this placeholder type, removed below.
 */
const ANY_TYPE = 'any-json';
export const anyJson = (description = 'any JSON value'): ApiPropertyOptions =>
  ({ type: ANY_TYPE, description }) as unknown as ApiPropertyOptions;

export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Orchestron')
      .setDescription(
        'Event-sourced workflow orchestration. Every response, errors included, carries `agent_contract`: whether to retry, and what can be done next.',
      )
      .setVersion('1')
      .addBearerAuth({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key',
        description: 'an API key from ORCHESTRON_API_KEYS, or $ORCHESTRON_DATA/admin.key for the embedded server',
      })
      .build(),
  );
  untypeAnyJson(document);
  return document;
}

function untypeAnyJson(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) untypeAnyJson(item);
  } else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (record.type === ANY_TYPE) delete record.type;
    for (const value of Object.values(record)) untypeAnyJson(value);
  }
}
