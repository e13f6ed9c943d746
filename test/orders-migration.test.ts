import { refreshRollups } from "../src/read-models";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

/** The migrations after IdentityLocks, newest first: undone to go back to purchase_claims. */
const SINCE_CLAIMS = ["KeyScopes", "ReplicationHeartbeat", "WorkLeases", "StaleSince", "SessionCredit", "CartEvents", "ChannelCredit", "CartLastAdds", "IdentityConflicts", "Orders"];

describe.each(dbTargets())("the Orders migration on $name", target => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(target, [], () => new Date("2026-03-10T20:00:00Z"));
  });
  afterAll(() => h.close());

  it("moves the claims into orders, makes rows for orders known by refunds only, and flags their refunds as their purchases", async () => {
    const { publishableKey, appspaceId } = await h.appspace({ currency: "USD" });
    const events = [
      { eventType: "PURCHASE", userId: "hugo", transactionId: "big-1", revenue: 150_000, timestamp: "2026-03-04T12:00:00Z" },
      { eventType: "CANCEL", transactionId: "big-1", timestamp: "2026-03-05T12:00:00Z" },
      { eventType: "REFUND", transactionId: "solo-1", revenue: 5, timestamp: "2026-03-06T12:00:00Z" },
    ];
    expect((await h.gql(TRACK_EVENTS, { events }, publishableKey)).body.data!.trackEvents.errors).toEqual([]);
    await refreshRollups(h.db, { waitSeconds: 10 });

    // As a database of the version before: claims of purchases only, and a cancel stored unflagged.
    for (const name of SINCE_CLAIMS) {
      const [last] = await h.db.query("SELECT name FROM migrations ORDER BY id DESC LIMIT 1");
      expect(last.name).toBe(`${name}${last.name.replace(/^\D+/, "")}`);
      await h.db.undoLastMigration({ transaction: "each" });
    }
    expect(await h.db.query("SELECT transaction_id FROM purchase_claims WHERE appspace_id = ?", [appspaceId])).toEqual([{ transaction_id: "big-1" }]);
    await h.db.query("UPDATE events SET flags = NULL WHERE appspace_id = ? AND event_type = 'CANCEL'", [appspaceId]);

    await h.db.runMigrations({ transaction: "each" });
    const orders = await h.db.query("SELECT transaction_id, purchase_row_id FROM orders WHERE appspace_id = ? ORDER BY transaction_id", [appspaceId]);
    expect(orders.map((o: { transaction_id: string; purchase_row_id: unknown }) => [o.transaction_id, o.purchase_row_id === null])).toEqual([["big-1", false], ["solo-1", true]]);
    const [cancel] = await h.db.query("SELECT flags FROM events WHERE appspace_id = ? AND event_type = 'CANCEL'", [appspaceId]);
    expect(cancel.flags).toBe("max_order_value");
    const stale = await h.db.query("SELECT DISTINCT day FROM rollup_dirty WHERE appspace_id = ? ORDER BY day", [appspaceId]);
    expect(stale.map((r: { day: string }) => r.day)).toContain("2026-03-05");

    // solo-1's purchase, flagged, arrives after the upgrade: its refund follows it.
    await h.gql(TRACK_EVENTS, { events: [{ eventType: "PURCHASE", userId: "ida", transactionId: "solo-1", revenue: 120_000, timestamp: "2026-03-06T10:00:00Z" }] }, publishableKey);
    const [refund] = await h.db.query("SELECT flags FROM events WHERE appspace_id = ? AND event_type = 'REFUND'", [appspaceId]);
    expect(refund.flags).toBe("max_order_value");
  });
});
