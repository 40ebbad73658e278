import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { decorateProperty } from './decorate.ts';

export class AuditExportQuery {
  declare readonly run?: string;
}
decorateProperty(AuditExportQuery, 'run', [
  IsOptional(),
  IsString({ message: '"run" must be a run id, given once' }),
  Length(1, 200, { message: '"run" must be a run id of 1 to 200 characters' }),
  ApiPropertyOptional({ type: String, description: "one run's events (the whole log up to the checkpoint without)" }),
]);
