import pg from 'pg';
import { createPostgresEventStore } from '@orchestron/store-postgres';
const url = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `exp_${Math.random().toString(16).slice(2, 10)}`;
const s = await createPostgresEventStore({ url, schema }); await s.close();
const c = new pg.Client({ connectionString: url }); await c.connect();
for (let round = 0; round < 4; round++) {
  const n = 1000; const ids = Array.from({ length: n }, (_, i) => `r${round}-${i}`);
  const t = performance.now();
  await c.query(`SELECT * FROM "${schema}".append_events($1,$2,$3,$4,$5,$6,$7,$8)`, [ids, ids.map(() => 'no_stream'), ids.map(() => 1), ids.map(() => crypto.randomUUID()), ids.map(() => 'Created'), ids.map((_, i) => JSON.stringify({ index: i })), ids.map(() => '{}'), new Date().toISOString()]);
  console.log('batch of 1000', Math.round(performance.now() - t), 'ms');
}
await c.query(`DROP SCHEMA "${schema}" CASCADE`); await c.end();
