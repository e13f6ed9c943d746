import { MigrationInterface, QueryRunner } from "typeorm";
import { queryRows, sql, inList, raw } from "../src/db/query";
import { insertChunked, multiRowInsert, toNumber, withTransaction } from "../src/db/sql";
import { READ_MODELS } from "../src/read-models";
import { purgeExpired } from "../src/retention/retention";
import { DayRollup, ENGINE_TABLES } from "../src/rollups/day-rollup";
import { deleteDayRows, deleteRowsBefore } from "../src/rollups/day-rows";
import { forgetInRollups, lockPeopleRollups, refreshStaleDays } from "../src/rollups/refresher";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

/*
 * The rollup contract (src/rollups/day-rollup.ts), shown with a read model of its own as a new report would bring one:
 * the engine refreshes its stale days through the one pass over a day's events, a deletion reaches it through
 * forgetInRollups, retention through purgeExpired, and nothing else needs to know its table.
 */

class ToyTable1900000000000 implements MigrationInterface {
  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`CREATE TABLE toy_person_days (appspace_id INT NOT NULL, day VARCHAR(10) NOT NULL,
      person VARCHAR(128) NOT NULL, events INT NOT NULL, PRIMARY KEY (appspace_id, day, person))`);
  }
  async down(qr: QueryRunner): Promise<void> {
    await qr.query("DROP TABLE toy_person_days");
  }
}

/** Events per person and day. */
const toyRollup: DayRollup = {
  name: "toy",
  tables: ["toy_person_days"],
  migrations: [ToyTable1900000000000],
  async refreshDay({ db, appspaceId, day }) {
    await deleteDayRows(db, appspaceId, day, ["toy_person_days"]);
    const counts = new Map<string, number>();
    return {
      events: {
        add: page => page.forEach(e => e.person !== null && e.ofPerson && counts.set(e.person, (counts.get(e.person) ?? 0) + 1)),
        endPart: async () => undefined,
      },
      finish: async () => {
        const rows = [...counts].map(([person, n]) => [appspaceId, day, person, n]);
        await insertChunked(db, r => multiRowInsert("toy_person_days", ["appspace_id", "day", "person", "events"], r), 4, rows);
      },
    };
  },
  async forget(db, appspaceId, people, days) {
    const onDays = days === null ? raw("") : sql` AND day IN (${inList(days)})`;
    await queryRows(db, sql`DELETE FROM toy_person_days WHERE appspace_id = ${appspaceId} AND person IN (${inList(people)})${onDays}`);
  },
  async purgeBefore(db, appspaceId, oldestDay) {
    await deleteRowsBefore(db, appspaceId, oldestDay, ["toy_person_days"]);
  },
};

describe.each(dbTargets())("a read model plugged into the rollup engine on $name", target => {
  let h: Harness;
  let clock = new Date("2026-02-11T12:00:00Z");
  beforeAll(async () => {
    h = await startHarness(target, [], () => clock);
    const runner = h.db.createQueryRunner();
    for (const Migration of toyRollup.migrations!) await new Migration().up(runner);
    await runner.release();
  });
  afterAll(() => h.close());

  const rows = async (appspaceId: number) =>
    (await h.db.query("SELECT day, person, events FROM toy_person_days WHERE appspace_id = ? ORDER BY day, person", [appspaceId]))
      .map((r: { day: string; person: string; events: unknown }) => [r.day, r.person, toNumber(r.events)]);

  it("every rollup table has one owner: the engine or one read model", async () => {
    const stored: { name: string }[] = target.name === "sqlite"
      ? await h.db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rollup%'")
      : await h.db.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'rollup%'");
    const owned = [...ENGINE_TABLES, ...READ_MODELS.flatMap(m => m.tables)];
    expect(new Set(owned).size).toBe(owned.length);
    expect([...owned].sort()).toEqual(stored.map(t => t.name).sort());
  });

  it("is refreshed from the day's events, forgets a person, and loses the days retention drops", async () => {
    const space = await h.appspace({ currency: "EUR", retentionDays: 30 });
    const view = (userId: string, timestamp: string) => ({ eventType: "VIEW_ITEM", userId, timestamp, items: [{ itemId: "a" }] });
    const res = await h.gql(TRACK_EVENTS, { events: [
      view("u1", "2026-02-10T08:00:00Z"), view("u1", "2026-02-10T09:00:00Z"), view("u1", "2026-02-11T08:00:00Z"), view("u2", "2026-02-11T09:00:00Z"),
    ] }, space.publishableKey);
    expect(res.body.data!.trackEvents).toMatchObject({ accepted: 4, errors: [] });

    // The engine is handed the list with the new read model (read-models.ts would list it).
    expect(await refreshStaleDays(h.db, [...READ_MODELS, toyRollup], { waitSeconds: 10 })).toBeGreaterThanOrEqual(2);
    expect(await rows(space.appspaceId)).toEqual([["2026-02-10", "u1", 2], ["2026-02-11", "u1", 1], ["2026-02-11", "u2", 1]]);

    await withTransaction(h.db, async em => {
      await lockPeopleRollups(em, space.appspaceId, true);
      await forgetInRollups(em, [toyRollup], space.appspaceId, ["u2"], ["2026-02-11"]);
    });
    expect(await rows(space.appspaceId)).toEqual([["2026-02-10", "u1", 2], ["2026-02-11", "u1", 1]]);

    // Thirty days on from 02-11, the oldest day kept is 02-11: 02-10 goes, from the events and from the read model.
    clock = new Date("2026-03-12T12:00:00Z");
    expect(await purgeExpired(h.db, [...READ_MODELS, toyRollup], { now: clock })).toEqual(new Map([[space.appspaceId, 2]]));
    expect(await rows(space.appspaceId)).toEqual([["2026-02-11", "u1", 1]]);
  });
});
