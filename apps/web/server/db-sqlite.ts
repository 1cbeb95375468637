/**
 * The SQLite driver adapter on ONE connection. @libsql/client's `transaction()` hands its connection to the
 * transaction and opens a fresh one for whatever comes next: every Prisma transaction (a registration batch, a
 * sync-state write, a push round's version) then paid a file open and a schema parse, and the connection settings
 * (busy_timeout, synchronous) were lost after the first. Prisma's libsql adapter already runs one statement or one
 * transaction at a time (its mutex is held from BEGIN to COMMIT), so a transaction can simply run on the connection
 * itself: BEGIN, its statements, COMMIT (or ROLLBACK), and the connection is kept.
 */

import type { Client, Config, InStatement, ResultSet, Transaction, TransactionMode } from "@libsql/client";
import { createClient } from "@libsql/client";
import { PrismaLibSQL } from "@prisma/adapter-libsql";

const BEGIN: Record<TransactionMode, string> = { write: "BEGIN IMMEDIATE", read: "BEGIN TRANSACTION READONLY", deferred: "BEGIN DEFERRED" };

/**
 * Per-connection settings, applied once. WAL lets readers (tRPC) run beside the writer; synchronous=NORMAL syncs the
 * WAL at checkpoints instead of at every commit (in WAL mode the database stays consistent: a crash of the console
 * loses nothing, a power loss may lose the last commits); busy_timeout rides out short contention (e.g. a CLI).
 */
export const SQLITE_PRAGMAS = ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA busy_timeout = 5000"];

/** A transaction on the client's own connection; it ends (rolled back if still open) before the connection is used again. */
class SameConnectionTransaction implements Transaction {
  closed = false;
  constructor(private readonly client: Client) {}
  execute(stmt: InStatement): Promise<ResultSet> {
    this.check();
    return this.client.execute(stmt);
  }
  async batch(stmts: InStatement[]): Promise<ResultSet[]> {
    const out: ResultSet[] = [];
    for (const s of stmts) out.push(await this.execute(s));
    return out;
  }
  executeMultiple(sql: string): Promise<void> {
    this.check();
    return this.client.executeMultiple(sql);
  }
  async commit(): Promise<void> {
    this.check();
    try {
      await this.client.execute("COMMIT");
      this.closed = true;
    } catch (err) {
      // A failed COMMIT (e.g. SQLITE_BUSY) leaves the transaction open: end it, or the next statement would run in it.
      await this.rollback();
      throw err;
    }
  }
  async rollback(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.execute("ROLLBACK").catch(() => undefined);
  }
  close(): void {
    void this.rollback();
  }
  private check(): void {
    if (this.closed) throw new Error("the transaction is closed");
  }
}

/** The client with `transaction()` on its own connection (every other method as is). */
export function oneConnectionClient(client: Client): Client {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== "transaction") {
        const value = Reflect.get(target, prop, receiver);
        // Bound to the client itself: its methods read private fields, which a Proxy does not carry.
        return typeof value === "function" ? value.bind(target) : value;
      }
      return async (mode: TransactionMode = "write"): Promise<Transaction> => {
        await target.execute(BEGIN[mode]);
        return new SameConnectionTransaction(target);
      };
    },
  });
}

/** Prisma's libsql adapter factory over {@link oneConnectionClient}. */
export class OneConnectionLibSQL extends PrismaLibSQL {
  override createClient(config: Config): Client {
    return oneConnectionClient(createClient(config));
  }
}
