import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseStartError, StoreDatabase, type StoreMigration } from '../../libs/database/src/store-database';
import { DIALECTS, type DisposableTarget, freshStoreTarget } from '../support/store-targets';

const step = (name: string, table: string): StoreMigration => ({
  name,
  up: async (db) => {
    await db.schema.createTable(table).ifNotExists().addColumn('id', 'text', (c) => c.primaryKey()).execute();
  },
});

const FIRST = step('0001_first', 'first_table');
const SECOND = step('0002_second', 'second_table');
const OTHER = step('0002_other', 'other_table');

describe.each(DIALECTS)('StoreDatabase migrations on %s', (dialect) => {
  let place: DisposableTarget;
  const opened: StoreDatabase<unknown>[] = [];
  const open = async (migrations: StoreMigration[]) => {
    const store = await StoreDatabase.open<unknown>({ store: 'reconciler', target: place.target, migrations });
    opened.push(store);
    return store;
  };

  beforeEach(async () => {
    place = await freshStoreTarget(dialect, 'reconciler');
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await place.dispose();
  });

  it('applies each step once, however often and however many replicas open it', async () => {
    await Promise.all([open([FIRST, SECOND]), open([FIRST, SECOND])]);
    const again = await open([FIRST, SECOND]);
    const { rows } = await sql<{ name: string }>`SELECT name FROM reconciler_migrations ORDER BY name`.execute(again.db);
    expect(rows.map((r) => r.name)).toEqual(['0001_first', '0002_second']);
  });

  it('lets a replica of the previous release start on a schema a newer one has migrated (a rolling upgrade)', async () => {
    await open([FIRST, SECOND]);
    const older = await open([FIRST]);
    await expect(sql`SELECT count(*) FROM first_table`.execute(older.db)).resolves.toBeDefined();
  });

  it('refuses a schema that lacks one of its steps but holds one it does not know', async () => {
    await open([FIRST, OTHER]);
    await expect(open([FIRST, SECOND])).rejects.toBeInstanceOf(DatabaseStartError);
  });

  it('refuses steps listed out of their order', async () => {
    await expect(open([SECOND, FIRST])).rejects.toThrow(/sorts before/);
  });
});
