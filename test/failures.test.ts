import { QueryFailedError } from "typeorm";
import { isConnectionFailure, isTransientFailure, statementShape } from "../src/db/failures";
import { DataSource } from "typeorm";
import { retryDelayMs, TRANSACTION_ATTEMPTS, withTransaction } from "../src/db/sql";
import { deadlocks, transactionRetries } from "../src/metrics";

/** A counter's value for these labels. */
const valueOf = async (metric: { get(): Promise<{ values: { value: number; labels: object }[] }> }, labels: object = {}) =>
  (await metric.get()).values.find(v => JSON.stringify(v.labels) === JSON.stringify(labels))?.value ?? 0;
import { describeFailure } from "../src/log";

/** A failed query as TypeORM throws it: the SQL, its bound values, and the driver's error (whose message quotes values). */
function failedQuery(code: string, sqlMessage: string) {
  const driver = Object.assign(new Error(sqlMessage), { code, errno: 1062, sqlMessage, sql: "INSERT INTO events (user_id) VALUES ('alice@example.com')" });
  return new QueryFailedError("INSERT INTO events (user_id, anonymous_id) VALUES (?, ?), (?, ?)", ["alice@example.com", "dev-1", "bob", "dev-2"], driver);
}

describe("what a database failure means for a client", () => {
  it("an unreachable database or a dead connection is a connection failure, and transient", () => {
    for (const err of [
      { code: "ECONNREFUSED" }, { driverError: { code: "PROTOCOL_CONNECTION_LOST", fatal: true } }, { driverError: { errno: 1927 } },
      new Error("Can't add new command when connection is in closed state"), new Error("Pool is closed."), { code: "ER_SERVER_SHUTDOWN" },
    ]) {
      expect({ err, connection: isConnectionFailure(err), transient: isTransientFailure(err) }).toEqual({ err, connection: true, transient: true });
    }
  });

  it("lock conflicts and a busy SQLite are transient but not connection failures; a constraint or a bug is neither", () => {
    for (const code of ["ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT", "SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT"]) {
      expect({ code, connection: isConnectionFailure({ driverError: { code } }), transient: isTransientFailure({ driverError: { code } }) })
        .toEqual({ code, connection: false, transient: true });
    }
    for (const err of [failedQuery("ER_DUP_ENTRY", "Duplicate entry"), { code: "SQLITE_CONSTRAINT_TRIGGER" }, new TypeError("x is undefined"), null]) {
      expect({ err, transient: isTransientFailure(err) }).toEqual({ err, transient: false });
    }
  });
});

describe("statementShape", () => {
  it("keeps the text without values, and folds a multi-row VALUES list to its first tuple and a count", () => {
    expect(statementShape("INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) ON DUPLICATE KEY UPDATE n = n + VALUES(n)"))
      .toBe("INSERT INTO t (a, b) VALUES (?, ?) x3 ON DUPLICATE KEY UPDATE n = n + VALUES(n)");
    expect(statementShape("SELECT * FROM events WHERE user_id = 'alice' AND id IN (12, 13)\n  LIMIT 5")).toBe("SELECT * FROM events WHERE user_id = ? AND id IN (?, ?) LIMIT ?");
    expect(statementShape("UPDATE x SET a = 'it''s' WHERE b = 'c\\'d'")).toBe("UPDATE x SET a = ? WHERE b = ?");
    expect(statementShape(`SELECT ${"a, ".repeat(200)}b FROM t`)).toHaveLength(301);
  });
});

describe("describeFailure (what the logs hold of an error)", () => {
  it("a database error: its code, errno and statement shape, never its message, SQL or bound values", () => {
    const line = describeFailure(failedQuery("ER_DUP_ENTRY", "Duplicate entry 'alice@example.com' for key 'uq'"));
    expect(line).toBe('code=ER_DUP_ENTRY errno=1062 statement="INSERT INTO events (user_id, anonymous_id) VALUES (?, ?) x2"');
    expect(describeFailure(Object.assign(new Error("Deadlock found"), { code: "ER_LOCK_DEADLOCK", sql: "DELETE FROM x WHERE id = 'bob'" })))
      .toBe('code=ER_LOCK_DEADLOCK statement="DELETE FROM x WHERE id = ?"');
  });

  it("a bug: its stack", () => {
    const err = new TypeError("cannot read x");
    expect(describeFailure(err)).toBe(err.stack);
  });
});

describe("retryDelayMs", () => {
  it("is random up to a cap that doubles per attempt, up to 320 ms", () => {
    expect([1, 2, 3, 4, 5, 6].map(a => retryDelayMs(a, () => 1))).toEqual([20, 40, 80, 160, 320, 320]);
    expect(retryDelayMs(3, () => 0)).toBe(0);
    expect(retryDelayMs(3, () => 0.5)).toBe(40);
    // Every retry waits at most this long in all: a conflict ends within about a second.
    expect(Array.from({ length: TRANSACTION_ATTEMPTS - 1 }, (_, i) => retryDelayMs(i + 1, () => 1)).reduce((a, b) => a + b)).toBe(620);
  });
});

describe("withTransaction on MySQL", () => {
  /** A DataSource whose transactions fail with `codes`, one per attempt, then succeed. */
  const failing = (codes: string[]) => {
    let attempts = 0;
    const db = {
      options: { type: "mysql" },
      transaction: async () => {
        const code = codes[attempts++];
        if (code) throw Object.assign(new Error(code), { driverError: { code } });
        return "committed";
      },
    };
    return { db: db as unknown as DataSource, attempts: () => attempts };
  };

  it("runs a transaction again after a lock conflict, and counts each retry", async () => {
    const retries = () => Promise.all([valueOf(transactionRetries, { code: "ER_LOCK_DEADLOCK" }), valueOf(transactionRetries, { code: "ER_LOCK_WAIT_TIMEOUT" }), valueOf(deadlocks)]);
    const before = await retries();
    const { db, attempts } = failing(["ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT"]);
    await expect(withTransaction(db, async () => "x")).resolves.toBe("committed");
    const after = await retries();
    expect({ attempts: attempts(), retries: after.map((n, i) => n - before[i]) }).toEqual({ attempts: 3, retries: [1, 1, 1] });
  });

  it(`gives up after ${TRANSACTION_ATTEMPTS} attempts, and never retries other errors`, async () => {
    const deadlocks = failing(Array(TRANSACTION_ATTEMPTS).fill("ER_LOCK_DEADLOCK"));
    await expect(withTransaction(deadlocks.db, async () => "x")).rejects.toThrow("ER_LOCK_DEADLOCK");
    expect(deadlocks.attempts()).toBe(TRANSACTION_ATTEMPTS);
    const duplicate = failing(["ER_DUP_ENTRY"]);
    await expect(withTransaction(duplicate.db, async () => "x")).rejects.toThrow("ER_DUP_ENTRY");
    expect(duplicate.attempts()).toBe(1);
  });
});
