import { createKey, revokeKey } from "../src/appspaces/appspace.service";
import { Scope, SCOPES } from "../src/appspaces/scopes";
import { getMetadataStorage } from "type-graphql";
import { createSchema } from "../src/schema";
import { dbTargets } from "./helpers/databases";
import { OPENED_BY, TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";
import { EVENTS, NOW } from "./helpers/report-fixture";

const RANGE = `range: { start: "2026-03-01", end: "2026-03-10" }`;
/** Every read operation, asked about appspace A's data (its users and its deletion request). */
const READS: Record<string, string> = {
  overview: `{ overview(${RANGE}) { totalRevenue totalOrders refundAmount totalItemsSold } }`,
  revenueTimeseries: `{ revenueTimeseries(${RANGE}) { series { date revenue orders } } }`,
  funnel: `{ funnel(${RANGE}) { steps { count } } }`,
  topProducts: `{ topProducts(${RANGE}) { products { itemId product { name } } } }`,
  revenueBreakdown: `{ revenueBreakdown(${RANGE}, by: [COUNTRY, BRAND]) { rows { country brand revenue } } }`,
  revenueByChannel: `{ revenueByChannel(${RANGE}) { channels { campaign revenue } } }`,
  revenueByCoupon: `{ revenueByCoupon(${RANGE}) { coupons { couponCode revenue } } }`,
  revenueByDevice: `{ revenueByDevice(${RANGE}) { devices { deviceType revenue } } }`,
  revenueByPlatform: `{ revenueByPlatform(${RANGE}) { platforms { platform revenue } } }`,
  revenueByCountry: `{ revenueByCountry(${RANGE}) { countries { country revenue } } }`,
  cartAbandonment: `{ cartAbandonment(${RANGE}) { abandonedCarts completedCarts abandonedRevenue } }`,
  attribution: `{ attribution(${RANGE}, window: 90) { attributed { campaign revenue } unattributed { revenue orders } } }`,
  cohorts: `{ cohorts(months: 3) { totalPurchasingUsers avgLtv } }`,
  userJourney: `{ userJourney(userId: "alice") { events { eventType } } }`,
  userDeletion: `query ($id: ID!) { userDeletion(id: $id) { status } }`,
  ingestionStats: `{ ingestionStats { accepted stored } }`,
};
const opens = (scope: Scope, operation: string) => scope === "admin" || OPENED_BY[operation].includes(scope);
const forbiddenMessage = (operation: string, held: string) => `${operation} needs a key with the scope ${OPENED_BY[operation].join(" or ")}; this key has: ${held}`;
const forbidden = (operation: string) => ({ code: "FORBIDDEN", scope: OPENED_BY[operation][0] });

describe("the scopes of the operations", () => {
  it("every Query and Mutation field needs the scopes of the table the matrices check, and no other", async () => {
    const schema = await createSchema();
    const roots = [...Object.keys(schema.getQueryType()!.getFields()), ...Object.keys(schema.getMutationType()!.getFields())].sort();
    const declared = new Map(getMetadataStorage().authorizedFields.map(f => [f.fieldName, f.roles]));
    expect(roots.map(name => [name, declared.get(name)])).toEqual(roots.map(name => [name, OPENED_BY[name]]));
    expect(roots).toHaveLength(19);
  });
});
const WRITES: Record<string, string> = {
  trackEvent: `mutation { trackEvent(event: { eventType: PURCHASE, transactionId: "o-1", revenue: 999, userId: "alice" }) { ok } }`,
  trackEvents: `mutation { trackEvents(events: [{ eventType: PURCHASE, transactionId: "o-2", revenue: 999, userId: "alice" }]) { accepted } }`,
  deleteUser: `mutation { deleteUser(userId: "alice") { status } }`,
};

describe.each(dbTargets())("tenant isolation on $name", target => {
  let h: Harness;
  const keys: Record<string, string> = {};
  let deletionId: string;
  let aEvents: number;
  /** Appspace C takes the writes of the scope matrix, so that A's data stays as the reads expect it. */
  let c: { appspaceId: number };

  beforeAll(async () => {
    h = await startHarness(target, [], () => NOW);
    const a = await h.appspace({ name: "a", currency: "EUR" });
    const b = await h.appspace({ name: "b", currency: "EUR" });
    const empty = await h.appspace({ name: "empty", currency: "EUR" });
    expect((await h.gql(TRACK_EVENTS, { events: EVENTS }, a.publishableKey)).body.data!.trackEvents.errors).toEqual([]);
    deletionId = (await h.gql(`mutation { deleteUser(userId: "nobody-here") { id } }`, {}, a.secretKey)).body.data!.deleteUser.id;
    const { key: revoked } = await createKey(h.db, a.appspaceId, "secret");
    c = await h.appspace({ name: "c", currency: "EUR" });
    // A secret key of each scope alone, in A, B and C.
    for (const scope of SCOPES) {
      for (const [space, id] of [["a", a.appspaceId], ["b", b.appspaceId], ["c", c.appspaceId]] as const) {
        keys[`${space} ${scope}`] = (await createKey(h.db, id, "secret", { scopes: scope })).key;
      }
    }
    await revokeKey(h.db, revoked);
    Object.assign(keys, { own: a.secretKey, ownPublishable: a.publishableKey, revoked, otherSecret: b.secretKey, otherPublishable: b.publishableKey, empty: empty.secretKey });
    aEvents = await h.count("events", "appspace_id = ?", [a.appspaceId]);
  });
  afterAll(() => h.close());

  const ask = (query: string, key: string | null) => h.gql(query, { id: deletionId }, key);

  it.each(Object.entries(READS))("%s: another appspace's secret key sees nothing of A", async (_name, query) => {
    const own = await ask(query, keys.own);
    const other = await ask(query, keys.otherSecret);
    const empty = await ask(query, keys.empty);
    expect(own.body.errors).toBeUndefined();
    expect(other.status).toBe(200);
    // B answers exactly what an appspace that never had data answers, while A's own answer holds its data.
    expect(other.body).toEqual(empty.body);
    expect(own.body).not.toEqual(empty.body);
  });

  const readsByScope = Object.entries(READS).flatMap(([name, query]) => SCOPES.map(scope => [name, scope, query] as const));

  it.each(readsByScope)("%s with a key of the scope %s alone: A's answer if the scope opens it, else 403 naming the scope; B's key of it sees nothing of A", async (name, scope, query) => {
    const own = await ask(query, keys.own);
    const scoped = await ask(query, keys[`a ${scope}`]);
    const other = await ask(query, keys[`b ${scope}`]);
    if (opens(scope, name)) {
      expect(scoped.status).toBe(200);
      expect(scoped.body).toEqual(own.body);
      expect(other.status).toBe(200);
      expect(other.body).toEqual((await ask(query, keys.empty)).body);
    } else {
      for (const res of [scoped, other]) {
        expect(res.status).toBe(403);
        expect(res.body.errors).toEqual([expect.objectContaining({ message: forbiddenMessage(name, scope), extensions: forbidden(name) })]);
        expect(Object.values(res.body.data ?? {})).toEqual(res.body.data ? [null] : []);
      }
    }
  });

  const writesByScope = SCOPES.flatMap(scope => [
    ["trackEvent", scope, `mutation { trackEvent(event: { eventType: SEARCH, userId: "carol" }) { ok } }`, "events"],
    ["trackEvents", scope, `mutation { trackEvents(events: [{ eventType: SEARCH, userId: "carol" }]) { accepted } }`, "events"],
    // A person of their own for each scope: a request for a person already queued returns that request and adds no row.
    ["deleteUser", scope, `mutation { deleteUser(userId: "dora-of-${scope}") { status } }`, "deletion_requests"],
  ] as const);

  it.each(writesByScope)("%s with a key of the scope %s alone: writes only if the scope opens it, else 403 naming the scope and nothing written", async (name, scope, query, table) => {
    const before = await h.count(table, "appspace_id = ?", [c.appspaceId]);
    const res = await ask(query, keys[`c ${scope}`]);
    if (opens(scope, name)) {
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(await h.count(table, "appspace_id = ?", [c.appspaceId])).toBe(before + 1);
    } else {
      expect(res.status).toBe(403);
      expect(res.body.errors).toEqual([expect.objectContaining({ message: forbiddenMessage(name, scope), extensions: forbidden(name) })]);
      expect(await h.count(table, "appspace_id = ?", [c.appspaceId])).toBe(before);
    }
  });

  it("answers a document that mixes a report with a field outside the key's scopes 403, with no data (the fields are non-null)", async () => {
    const res = await ask(`{ overview(${RANGE}) { totalOrders } userJourney(userId: "alice") { userId } }`, keys["a reports:read"]);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ data: null, errors: [expect.objectContaining({ message: forbiddenMessage("userJourney", "reports:read"), path: ["userJourney"] })] });
    const nullable = await ask(`query ($id: ID!) { overview(${RANGE}) { totalOrders } userDeletion(id: $id) { status } }`, keys["a reports:read"]);
    expect(nullable.status).toBe(403);
    expect(nullable.body.data).toEqual({ overview: { totalOrders: expect.any(Number) }, userDeletion: null });
    expect(nullable.body.data!.overview.totalOrders).toBeGreaterThan(0);
  });

  it.each(Object.entries(READS))("%s: publishable keys get 403 naming the scope, revoked and missing keys 401", async (name, query) => {
    for (const key of [keys.ownPublishable, keys.otherPublishable]) {
      const res = await ask(query, key);
      expect(res.status).toBe(403);
      expect(res.body.errors).toEqual([expect.objectContaining({ extensions: forbidden(name) })]);
      // userDeletion is nullable, so its data is { userDeletion: null } rather than null.
      expect(Object.values(res.body.data ?? {})).toEqual(res.body.data ? [null] : []);
    }
    for (const key of [keys.revoked, null]) {
      const res = await ask(query, key);
      expect(res.status).toBe(401);
      expect(res.body.errors![0].extensions).toEqual({ code: "UNAUTHENTICATED" });
    }
  });

  it.each(Object.entries(WRITES))("%s with other appspaces' keys never touches A", async (name, query) => {
    for (const key of [keys.revoked]) expect((await ask(query, key)).status).toBe(401);
    const other = await ask(query, name === "deleteUser" ? keys.otherSecret : keys.otherPublishable);
    expect(other.status).toBe(200);
    if (name === "deleteUser") {
      expect((await ask(query, keys.otherPublishable)).status).toBe(403);
      // Let B's worker run: it must find nothing of A's alice.
      await new Promise(r => setTimeout(r, 300));
    }
    expect(await h.count("events", "appspace_id = (SELECT id FROM appspaces WHERE name = 'a')")).toBe(aEvents);
    const journey = await ask(READS.userJourney, keys.own);
    expect(journey.body.data!.userJourney.events.length).toBeGreaterThan(0);
  });
});
