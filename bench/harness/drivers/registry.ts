// One driver per system, by name.
import type { Driver, DriverContext, SystemName } from '../types.ts';
import { dbosDriver } from './dbos.driver.ts';
import { embeddedDriver } from './embedded.driver.ts';
import { kafkaFloorDriver, postgresFloorDriver, sqliteFloorDriver } from './floors.driver.ts';
import { productionDriver } from './production.driver.ts';
import { restateDriver } from './restate.driver.ts';

export function createDriver(system: SystemName, ctx: DriverContext): Driver {
  switch (system) {
    case 'orchestron-embedded':
      return embeddedDriver(ctx);
    case 'orchestron-production-1':
      return productionDriver(ctx, 1);
    case 'orchestron-production-2':
      return productionDriver(ctx, 2);
    case 'restate':
      return restateDriver(ctx);
    case 'dbos':
      return dbosDriver(ctx, 'inline');
    case 'dbos-queue':
      return dbosDriver(ctx, 'queue');
    case 'floor-postgres':
      return postgresFloorDriver(ctx);
    case 'floor-sqlite':
      return sqliteFloorDriver(ctx);
    case 'floor-kafka':
      return kafkaFloorDriver(ctx);
    default: {
      const never: never = system;
      throw new Error(`no driver for ${String(never)}`);
    }
  }
}
