import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_EVENT_ID, MAX_EVENT_KEY, MAX_EVENT_NAME } from '@orchestron/bus';
import { Allow, IsOptional, IsString, Length, Matches } from 'class-validator';
import { TENANT } from './auth.ts';
import { decorateProperty } from './decorate.ts';
import { anyJson } from './openapi.ts';

/** POST /v1/events: an event from outside for the event steps of the caller's runs that wait for it. */
export class SendEventBody {
  declare readonly name: string;
  declare readonly key: string;
  declare readonly id: string;
  declare readonly payload?: unknown;
  declare readonly tenant?: string;
}

/** No control characters: the three are echoed in answers, logs and the CLI. */
const PRINTABLE = /^[^\p{Cc}]*$/u;

function text(field: 'name' | 'key' | 'id', max: number, description: string): PropertyDecorator[] {
  const rule = `"${field}" must be a string of 1 to ${max} characters without control characters`;
  return [
    IsString({ message: rule }),
    Length(1, max, { message: rule }),
    Matches(PRINTABLE, { message: rule }),
    ApiProperty({ type: String, minLength: 1, maxLength: max, description }),
  ];
}

decorateProperty(
  SendEventBody,
  'name',
  text('name', MAX_EVENT_NAME, 'the event, as event steps name it: contract.signed'),
);
decorateProperty(
  SendEventBody,
  'key',
  text('key', MAX_EVENT_KEY, 'what it is about: delivered to the steps whose match evaluated to this key'),
);
decorateProperty(
  SendEventBody,
  'id',
  text('id', MAX_EVENT_ID, 'your id for this event: a second event with the same id, name and key is a duplicate'),
);
decorateProperty(SendEventBody, 'payload', [
  Allow(),
  ApiPropertyOptional(anyJson('becomes the output of every step it is delivered to (default null; at most 256 KiB)')),
]);
decorateProperty(SendEventBody, 'tenant', [
  IsOptional(),
  Matches(TENANT, { message: '"tenant" must be a tenant id (a-z, 0-9 and -, starting with a letter)' }),
  ApiPropertyOptional({ type: String, description: "admin only: another tenant's runs (default: the key's tenant)" }),
]);
