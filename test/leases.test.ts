import { DataSource } from "typeorm";
import { claim, withLease } from "../src/db/leases";
import { dialectOf } from "../src/db/dialect";
import { queryRows, sql } from "../src/db/query";
import { dbTargets, migratedDatabase } from "./helpers/databases";

/*
 * Leases (src/db/leases.ts): one holder of a unit at a time, a released unit is free at once, a lapsed one is taken
 * over, renewal keeps it, and a holder whose unit was taken is told so and leaves it alone.
 */

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describe.each(dbTargets())("leases on $name", target => {
  let db: DataSource;
  let drop: () => Promise<void>;

  /** A claim of another process that nobody renews (it died): lapses `ms` from now, by the database's clock. */
  const deadHolder = (unit: string, ms: number) =>
    queryRows(db, sql`INSERT INTO work_leases (unit, holder, expires_at) VALUES (${unit}, 'dead-process', ${dialectOf(db).msFromNow(ms)})`);

  beforeAll(async () => {
    ({ db, drop } = await migratedDatabase(target));
  });
  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it("gives a unit to one holder at a time, and another unit to another", async () => {
    const first = await claim(db, "unit:a");
    expect(first?.unit).toBe("unit:a");
    expect(await claim(db, "unit:a")).toBeNull();
    const other = await claim(db, "unit:b");
    expect(other).not.toBeNull();
    await first!.release();
    const next = await claim(db, "unit:a");
    expect(next).not.toBeNull();
    expect(first!.lost()).toBe(false);
    await Promise.all([next!.release(), other!.release()]);
  });

  it("hands a dead holder's unit to the next claimer once its lease lapses, not before", async () => {
    // Timed from before the dead holder's claim: its lease lapses 600 ms after it, however long the insert took.
    const started = Date.now();
    await deadHolder("unit:c", 600);
    expect(await claim(db, "unit:c")).toBeNull();
    const taker = await claim(db, "unit:c", { waitMs: 5000 });
    expect(taker).not.toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(Date.now() - started).toBeLessThan(3000);
    await taker!.release();
  });

  it("keeps a unit its holder renews past the lease", async () => {
    // Three leases long, renewed every third of one: a renewal may run a second late under load and still hold it.
    const kept = await claim(db, "unit:d", { leaseMs: 1500 });
    await sleep(4500);
    expect(await claim(db, "unit:d")).toBeNull();
    expect(await kept!.renew()).toBe(true);
    expect(kept!.lost()).toBe(false);
    await kept!.release();
    const next = await claim(db, "unit:d");
    expect(next).not.toBeNull();
    await next!.release();
  });

  it("gives a unit up for good when released during a renewal", async () => {
    const held = await claim(db, "unit:g", { leaseMs: 300 });
    const renewal = held!.renew();
    await held!.release();
    await renewal;
    const next = await claim(db, "unit:g");
    expect(next).not.toBeNull();
    await next!.release();
  });

  it("counts a lease lost once its holder has not renewed it within the lease (a hung process), on MySQL", async () => {
    const hung = await claim(db, "unit:h", { leaseMs: 300 });
    // The event loop blocked for longer than the lease: no renewal could run.
    const until = Date.now() + 400;
    while (Date.now() < until);
    // On MySQL another process may hold it by now: lost, and never taken back. SQLite serves one process: kept.
    const mysql = target.name === "mariadb";
    expect(hung!.lost()).toBe(mysql);
    expect(await hung!.renew()).toBe(!mysql);
    await hung!.release();
  });

  it("tells a holder whose unit another took (it hung past its lease), and its release leaves the taker's alone", async () => {
    const hung = await claim(db, "unit:e", { leaseMs: 60_000 });
    // As a claimer would after the lapse: the unit is another's.
    await db.query("UPDATE work_leases SET holder = 'taker' WHERE unit = 'unit:e'");
    expect(await hung!.renew()).toBe(false);
    expect(hung!.lost()).toBe(true);
    await hung!.release();
    const [row] = await db.query("SELECT holder FROM work_leases WHERE unit = 'unit:e'");
    expect(row.holder).toBe("taker");
  });

  it("runs work under a lease, and not while another holds it", async () => {
    const held = await claim(db, "unit:f");
    expect(await withLease(db, "unit:f", "busy", async () => "ran")).toBe("busy");
    await held!.release();
    expect(await withLease(db, "unit:f", "busy", async lease => `ran ${lease.unit}`)).toBe("ran unit:f");
    const after = await claim(db, "unit:f");
    expect(after).not.toBeNull();
    await after!.release();
  });
});
