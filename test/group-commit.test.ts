import mysql from "mysql2/promise";
import { failedOnItsOwn } from "../src/db/sql";
import { GroupCommit } from "../src/ingest/group-commit";
import { captureLogs } from "../src/log";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENT } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";
import { until } from "./helpers/wait";

describe("GroupCommit", () => {
  /** Flushes that wait until released, so that jobs pile up behind them; "bad" jobs make a flush fail. */
  function gated(parallel = 1) {
    const flushes: string[][] = [];
    const gates: (() => void)[] = [];
    const commit = new GroupCommit<string, string>(async (key, jobs) => {
      flushes.push([key, ...jobs]);
      await new Promise<void>(release => gates.push(release));
      if (jobs.includes("bad")) throw new Error(`bad in ${jobs.join(",")}`);
      if (jobs.includes("locked")) throw new Error("lock wait timeout");
    }, job => (job.startsWith("big") ? 3 : 1), 4, err => !(err as Error).message.startsWith("lock"), parallel);
    const settled: string[] = [];
    const run = (key: string, job: string) => commit.run(key, job).then(() => settled.push(`${job} ok`), (err: Error) => settled.push(`${job} failed: ${err.message}`));
    const releaseNext = async () => {
      gates.shift()!();
      await new Promise(r => setImmediate(r));
    };
    const releaseAll = async () => {
      while (gates.length) {
        gates.shift()!();
        await new Promise(r => setImmediate(r));
      }
    };
    return { flushes, settled, run, releaseNext, releaseAll };
  }

  it("flushes a job at once when its key is idle, and the jobs that came meanwhile together, up to the weight limit", async () => {
    const { flushes, settled, run, releaseAll } = gated();
    const all = [run("a", "1"), run("a", "2"), run("a", "3"), run("a", "big4"), run("a", "5"), run("b", "6")];
    expect(flushes).toEqual([["a", "1"], ["b", "6"]]);
    await releaseAll();
    await Promise.all(all);
    expect(flushes).toEqual([["a", "1"], ["b", "6"], ["a", "2", "3"], ["a", "big4", "5"]]);
    expect(settled.sort()).toEqual(["1 ok", "2 ok", "3 ok", "5 ok", "6 ok", "big4 ok"]);
  });

  it("runs a second flush of a key at once only for jobs waiting that weigh half a flush or more", async () => {
    const { flushes, settled, run, releaseNext, releaseAll } = gated(2);
    // "2" alone waits (weight 1 of 4); with "3" the jobs waiting weigh half a flush: they go in a second flush.
    const first = [run("a", "1"), run("a", "2"), run("a", "3"), run("a", "4"), run("b", "5")];
    expect(flushes).toEqual([["a", "1"], ["a", "2", "3"], ["b", "5"]]);
    // "1" is done: "4" alone is too light for a second flush; it waits for the one in flight.
    await releaseNext();
    expect(flushes).toEqual([["a", "1"], ["a", "2", "3"], ["b", "5"]]);
    await releaseAll();
    await Promise.all(first);
    expect(flushes).toEqual([["a", "1"], ["a", "2", "3"], ["b", "5"], ["a", "4"]]);
    expect(settled.sort()).toEqual(["1 ok", "2 ok", "3 ok", "4 ok", "5 ok"]);
    // Idle again; a job heavy enough starts the second flush on its own, and a third waits for either.
    const next = [run("a", "6"), run("a", "big7"), run("a", "big8")];
    expect(flushes.slice(4)).toEqual([["a", "6"], ["a", "big7"]]);
    await releaseAll();
    await Promise.all(next);
    expect(flushes.slice(4)).toEqual([["a", "6"], ["a", "big7"], ["a", "big8"]]);
  });

  it("flushes each job of a failed group alone: only the job at fault fails", async () => {
    const { flushes, settled, run, releaseAll } = gated();
    const logged = captureLogs();
    const all = [run("a", "1"), run("a", "2"), run("a", "bad"), run("a", "3")];
    await releaseAll();
    await Promise.all(all);
    expect(logged()).toEqual([expect.objectContaining({
      level: "error", scope: "group commit", msg: "a flush of 3 jobs failed, each is flushed alone", error: expect.stringMatching(/^Error: bad in 2,bad,3\n/),
    })]);
    expect(flushes).toEqual([["a", "1"], ["a", "2", "bad", "3"], ["a", "2"], ["a", "bad"], ["a", "3"]]);
    expect(settled).toEqual(["1 ok", "2 ok", "bad failed: bad in bad", "3 ok"]);
    // The key is idle again: the next job is flushed at once.
    const next = run("a", "4");
    expect(flushes.at(-1)).toEqual(["a", "4"]);
    await releaseAll();
    await next;
    expect(settled.at(-1)).toBe("4 ok");
  });

  it("splits a failed write only for a failure of its own statements", () => {
    expect(failedOnItsOwn({ driverError: { code: "ER_SIGNAL_EXCEPTION" } })).toBe(true);
    expect(failedOnItsOwn({ code: "SQLITE_CONSTRAINT_TRIGGER" })).toBe(true);
    expect(failedOnItsOwn({ driverError: { code: "ER_LOCK_DEADLOCK" } })).toBe(false);
    expect(failedOnItsOwn({ driverError: { code: "ER_LOCK_WAIT_TIMEOUT" } })).toBe(false);
    // A lost connection: the commit may have gone through, and written alone the events would be stored twice.
    expect(failedOnItsOwn({ driverError: { code: "PROTOCOL_CONNECTION_LOST", fatal: true } })).toBe(false);
  });

  it("fails the whole group for a failure that is no job's own (a lock conflict), without flushing each alone", async () => {
    const { flushes, settled, run, releaseAll } = gated();
    const all = [run("a", "1"), run("a", "2"), run("a", "locked")];
    await releaseAll();
    await Promise.all(all);
    expect(flushes).toEqual([["a", "1"], ["a", "2", "locked"]]);
    expect(settled).toEqual(["1 ok", "2 failed: lock wait timeout", "locked failed: lock wait timeout"]);
  });
});

/**
 * Transactions of the connection's database waiting for a lock (MariaDB; other databases of the server are others'
 * tests). InnoDB refreshes what INNODB_TRX shows only when it was last read over 0.1 s before: ask less often than that.
 */
async function lockWaits(conn: mysql.Connection): Promise<number> {
  const [rows] = await conn.query(
    `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
     WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()`,
  );
  return Number((rows as { n: unknown }[])[0].n);
}

describe.each(dbTargets())("concurrent trackEvent requests on $name", target => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(target);
  });
  afterAll(() => h.close());

  const purchase = (transactionId: string) => ({ eventType: "PURCHASE", transactionId, revenue: 12.5, userId: `u-${transactionId}`, items: [{ itemId: "sku-1", price: 12.5, quantity: 1 }] });
  const stats = async (key: string) =>
    (await h.gql("{ ingestionStats { accepted stored duplicates } }", {}, key)).body.data!.ingestionStats;

  it("share transactions, and each is answered for its own event", async () => {
    // A partner's server (the secret key): 20 purchases a second from one browser would trip the velocity rule.
    const { secretKey, appspaceId } = await h.appspace();
    await h.gql(TRACK_EVENT, { event: purchase("warm-up") }, secretKey);
    h.sql.reset();
    // 20 requests at once, two of them for one order: the second is a duplicate, whichever transaction it shares.
    const orders = [...Array.from({ length: 19 }, (_, i) => `o-${i}`), "o-7"];
    const answers = await Promise.all(orders.map(o => h.gql(TRACK_EVENT, { event: purchase(o) }, secretKey)));
    expect(answers.map(a => a.body)).toEqual(orders.map(() => ({ data: { trackEvent: { ok: true } } })));
    // Alone, each request would claim its order in a statement of its own. SQLite's driver is synchronous: a write
    // ends before the next request is read, so there requests never wait and go alone.
    const claims = h.sql.statements.filter(s => s.trim().startsWith("INSERT INTO orders")).length;
    if (target.name === "sqlite") expect(claims).toBe(orders.length);
    else expect(claims).toBeLessThan(orders.length);
    expect(await h.count("events", "appspace_id = ? AND transaction_id LIKE 'o-%'", [appspaceId])).toBe(19);
    expect(await h.count("event_items", "appspace_id = ?", [appspaceId])).toBe(20);
    expect(await stats(secretKey)).toEqual({ accepted: 21, stored: 20, duplicates: 1 });
  });

  it("a request whose write fails fails alone: the others of its transaction are stored", async () => {
    const { publishableKey, secretKey, appspaceId } = await h.appspace();
    await h.db.query(target.name === "sqlite"
      ? "CREATE TRIGGER no_poison BEFORE INSERT ON events WHEN NEW.transaction_id = 'poison' BEGIN SELECT RAISE(ABORT, 'no poison'); END"
      : "CREATE TRIGGER no_poison BEFORE INSERT ON events FOR EACH ROW BEGIN IF NEW.transaction_id = 'poison' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no poison'; END IF; END");
    const logged = captureLogs("error");
    try {
      await h.gql(TRACK_EVENT, { event: purchase("first") }, publishableKey);
      h.sql.reset();
      // On MariaDB, "a"'s write is held at its last statement (today's "stored" count, locked from another connection)
      // until the others have come: they are written together, poison among them.
      const lock = target.name === "mariadb" ? await mysql.createConnection((h.db.options as { url: string }).url) : null;
      await lock?.query("BEGIN");
      await lock?.query("SELECT n FROM ingestion_stats WHERE appspace_id = ? AND outcome = 'stored' AND code = '' FOR UPDATE", [appspaceId]);
      const first = h.gql(TRACK_EVENT, { event: purchase("a") }, publishableKey);
      const orders = ["b", "c", "poison", "d", "e", "f", "g"];
      let rest: ReturnType<typeof h.gql>[];
      try {
        if (lock) await until("a's write to wait for the lock", async () => (await lockWaits(lock)) === 1, 10_000, 200);
        rest = orders.map(o => h.gql(TRACK_EVENT, { event: purchase(o) }, publishableKey));
        // Each request's last statement before it joins the writes waiting is its quota read; then a moment for the join.
        const quotaReads = () => h.sql.statements.filter(q => q.includes("COALESCE(SUM(n), 0)")).length;
        await until("the seven requests' quota reads", () => quotaReads() === 1 + orders.length, 10_000);
        await new Promise(r => setTimeout(r, 300));
      } finally {
        // Released whatever happened: the trigger is dropped below, which waits for every transaction on events.
        await lock?.query("COMMIT").finally(() => lock.end());
      }
      expect((await first).body).toEqual({ data: { trackEvent: { ok: true } } });
      const answers = await Promise.all(rest);
      expect(answers.filter(a => a.body.errors)).toHaveLength(1);
      expect(answers[2].body.errors![0].extensions!.code).toBe("INTERNAL_SERVER_ERROR");
      expect(answers[2].body.errors![0].message).not.toMatch(/poison|INSERT/);
      expect(answers.filter((_, i) => i !== 2).map(a => a.body.data)).toEqual(orders.slice(1).map(() => ({ trackEvent: { ok: true } })));
      // "a", then the seven together (failed), then each of them alone; SQLite's writes never wait, so each went alone.
      const inserts = h.sql.statements.filter(q => /INTO events\b/.test(q)).length;
      expect(inserts).toBe(target.name === "mariadb" ? 1 + 1 + 7 : 8);
    } finally {
      logged();
      await h.db.query("DROP TRIGGER no_poison");
    }
    expect((await h.db.query("SELECT transaction_id AS t FROM events WHERE appspace_id = ? ORDER BY transaction_id", [appspaceId])).map((r: { t: string }) => r.t))
      .toEqual(["a", "b", "c", "d", "e", "f", "first", "g"]);
    expect(await h.count("orders", "appspace_id = ?", [appspaceId])).toBe(8);
    expect(await stats(secretKey)).toEqual({ accepted: 8, stored: 8, duplicates: 0 });
  });
});
