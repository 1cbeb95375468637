/**
 * The PostgreSQL driver adapter for the Prisma CLI (6.19.3, JS schema engine), with the two workarounds STACK.md
 * records. The runtime client uses the stock adapter (server/db-postgres.ts): only the CLI needs these.
 * - prisma/orm#27403 (fixed only in 7.x): migrate on an empty database fails with "Column type 'name' could not be
 *   deserialized", because the engine cannot read catalog types. Query results report them as text (and text[]).
 * - The stock `connectToShadowDb` loses the password and drops the shadow database while its pool still holds
 *   connections: ours keeps the URL and closes the pool first.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

/** Catalog types (char, name, regproc, xid, pg_node_tree, regconfig, regdictionary, regnamespace) read as text. */
const AS_TEXT = new Set([18, 19, 24, 28, 194, 2205, 2206, 3220]);
/** Their arrays (int2vector's neighbours name[] and char[] in the catalog) read as text[]. */
const AS_TEXT_ARRAY = new Set([1002, 1003]);

function retype<T>(result: T): T {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const f of (r as pg.QueryResult | undefined)?.fields ?? []) {
      if (AS_TEXT.has(f.dataTypeID)) f.dataTypeID = 25;
      else if (AS_TEXT_ARRAY.has(f.dataTypeID)) f.dataTypeID = 1009;
    }
  }
  return result;
}

/** A pg Client whose results report catalog types as text; Pool.query uses the callback form, Prisma the promise. */
class CatalogAsTextClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query has a dozen overloads; this passes every one through.
  override query(config: any, values?: any, callback?: any): any {
    if (typeof values === "function") return super.query(config, (err: Error, res: unknown) => values(err, err ? res : retype(res)));
    if (typeof callback === "function") return super.query(config, values, (err: Error, res: unknown) => callback(err, err ? res : retype(res)));
    const r = super.query(config, values);
    return r && typeof (r as Promise<unknown>).then === "function" ? (r as Promise<unknown>).then(retype) : r;
  }
}

/** allowExitOnIdle: the CLI never closes its pool, whose idle connections would hold the process for 10 s. */
export function postgresCliAdapter(url: string): PrismaPg {
  const factory = new PrismaPg(new pg.Pool({ connectionString: url, Client: CatalogAsTextClient, allowExitOnIdle: true }));
  factory.connectToShadowDb = async () => {
    const main = await factory.connect();
    const database = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID().replaceAll("-", "")}`;
    await main.executeScript(`CREATE DATABASE "${database}"`);
    const shadowUrl = new URL(url);
    shadowUrl.pathname = `/${database}`;
    const shadow = await new PrismaPg(new pg.Pool({ connectionString: shadowUrl.toString(), Client: CatalogAsTextClient, allowExitOnIdle: true }), {
      disposeExternalPool: true,
    }).connect();
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose(); // its connections closed first, or the DROP fails
      await main.executeScript(`DROP DATABASE IF EXISTS "${database}"`);
      await main.dispose();
    };
    return shadow;
  };
  return factory;
}
