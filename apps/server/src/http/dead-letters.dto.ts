import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { decorateProperty } from './decorate.ts';
import { limitField } from './query-fields.ts';

export class ListDeadLettersQuery {
  declare readonly topic?: string;
  declare readonly limit?: number;
}
decorateProperty(ListDeadLettersQuery, 'topic', [
  IsOptional(),
  IsString({ message: '"topic" must be a topic name' }),
  Length(1, 249, { message: '"topic" must be a topic name of 1 to 249 characters' }),
  ApiPropertyOptional({ type: String, description: 'only dead letters from this source topic' }),
]);
decorateProperty(ListDeadLettersQuery, 'limit', limitField(1_000));

export class ReplayDeadLetterBody {
  declare readonly position: string;
  declare readonly reason?: string;
}
decorateProperty(ReplayDeadLetterBody, 'position', [
  IsString({ message: '"position" must be a DLQ position, partition:offset' }),
  Matches(/^\d{1,9}:\d{1,18}$/, { message: '"position" must be a DLQ position, partition:offset (e.g. 0:17)' }),
  ApiProperty({ type: String, example: '0:17', description: 'the position GET /v1/dead-letters lists' }),
]);
decorateProperty(ReplayDeadLetterBody, 'reason', [
  IsOptional(),
  IsString({ message: '"reason" must be a string' }),
  Length(0, 1_000, { message: '"reason" must be at most 1000 characters' }),
  ApiPropertyOptional({ type: String, description: "why; kept beside the letter and in the server's log" }),
]);
