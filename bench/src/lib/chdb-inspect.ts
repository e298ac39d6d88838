/**
 * Looks inside the store's ClickHouse tables through its driver (works for chDB and remote): where the
 * events table is, its column names, part sizes.
 */

export interface Driverish {
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  command(sql: string, params?: Record<string, unknown>): Promise<void>;
  insert(table: string, rows: Record<string, unknown>[]): Promise<void>;
}

export interface EventsTable {
  /** database-qualified name, e.g. `tandem.events` */
  qualified: string;
  database: string;
  table: string;
  columns: { name: string; type: string }[];
  sessionCol: string;
  tabCol: string;
  seqCol: string;
  dataCol: string;
  engine: string;
}

function pick(cols: string[], ...candidates: string[]): string {
  for (const c of candidates) if (cols.includes(c)) return c;
  throw new Error(`none of ${candidates.join(', ')} among columns ${cols.join(', ')}`);
}

export async function findEventsTable(driver: Driverish, name = 'events'): Promise<EventsTable> {
  const tables = await driver.query<{ database: string; name: string; engine: string }>(
    `SELECT database, name, engine FROM system.tables WHERE name = {name:String} AND database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema')`,
    { name },
  );
  if (!tables.length) throw new Error(`no table named ${name}`);
  const t = tables[0];
  const columns = await driver.query<{ name: string; type: string }>(
    `SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position`,
    { db: t.database, t: t.name },
  );
  const names = columns.map((c) => c.name);
  return {
    qualified: `${t.database}.${t.name}`,
    database: t.database,
    table: t.name,
    columns,
    engine: t.engine,
    sessionCol: pick(names, 'session_id', 'sessionId', 'sid'),
    tabCol: pick(names, 'tab_id', 'tabId', 'tid'),
    seqCol: pick(names, 'seq'),
    dataCol: pick(names, 'data', 'event', 'json', 'payload'),
  };
}

export interface PartsSize {
  parts: number;
  rows: number;
  bytesOnDisk: number;
  dataCompressed: number;
  dataUncompressed: number;
}

export async function partsSize(driver: Driverish, database: string, table: string): Promise<PartsSize> {
  const [r] = await driver.query<Record<string, string | number>>(
    `SELECT count() AS parts, sum(rows) AS rows, sum(bytes_on_disk) AS bytes_on_disk,
            sum(data_compressed_bytes) AS dc, sum(data_uncompressed_bytes) AS du
     FROM system.parts WHERE database = {db:String} AND table = {t:String} AND active`,
    { db: database, t: table },
  );
  return {
    parts: Number(r?.parts ?? 0),
    rows: Number(r?.rows ?? 0),
    bytesOnDisk: Number(r?.bytes_on_disk ?? 0),
    dataCompressed: Number(r?.dc ?? 0),
    dataUncompressed: Number(r?.du ?? 0),
  };
}

export async function columnSizes(driver: Driverish, database: string, table: string): Promise<{ name: string; compressed: number; uncompressed: number }[]> {
  const rows = await driver.query<Record<string, string | number>>(
    `SELECT name, data_compressed_bytes AS c, data_uncompressed_bytes AS u FROM system.columns
     WHERE database = {db:String} AND table = {t:String} ORDER BY c DESC`,
    { db: database, t: table },
  );
  return rows.map((r) => ({ name: String(r.name), compressed: Number(r.c), uncompressed: Number(r.u) }));
}
