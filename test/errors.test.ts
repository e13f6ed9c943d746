import { captureLogs } from "../src/log";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

describe.each(dbTargets())("failures inside the write path on $name", target => {
  let h: Harness;
  let pk: string;

  beforeAll(async () => {
    h = await startHarness(target);
    ({ publishableKey: pk } = await h.appspace());
  });
  afterAll(() => h.close());

  it("roll the whole request back and answer a masked INTERNAL_SERVER_ERROR, with no SQL or stack", async () => {
    // Break the statement that runs after events and items are written.
    await h.db.query("DROP TABLE event_properties");
    const logged = captureLogs();
    const res = await h.gql(TRACK_EVENTS, {
      events: [{ eventType: "PURCHASE", transactionId: "o-1", revenue: 5, userId: "u", items: [{ itemId: "sku" }], properties: [{ key: "k", value: "v" }] }],
    }, pk);
    const lines = logged();
    expect(lines.filter(l => l.level === "error").map(l => [l.scope, l.msg])).toEqual([["graphql", "internal error"]]);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ data: null, errors: [{ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
    for (const table of ["events", "event_items", "orders", "identity_links", "products"]) {
      expect({ table, rows: await h.count(table) }).toEqual({ table, rows: 0 });
    }
  });
});
