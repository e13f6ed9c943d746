import { createKey } from "../src/appspaces/appspace.service";
import { Scope, SCOPES } from "../src/appspaces/scopes";
import { dbTargets } from "./helpers/databases";
import { OPENED_BY, TRACK_EVENT, TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

/*
 * A generated matrix of bad input over every argument of every operation. Each case must be refused with
 * HTTP 400 and BAD_USER_INPUT (our own checks add `reason`: MISSING_FIELD, INVALID_VALUE, TOO_LONG, TOO_MANY;
 * GraphQL's type checks have none), a message that names the field, no 5xx, and nothing stored.
 */
const NOW = new Date("2026-03-10T12:00:00Z");
const BASE_EVENT = {
  eventType: "PURCHASE", eventId: "e-1", transactionId: "t-1", revenue: 10, currency: "EUR", userId: "u", anonymousId: "a",
  sessionId: "s", cartId: "c", couponCode: "C", discount: 1, shipping: 1, tax: 1, timestamp: "2026-03-10T11:00:00Z", aliases: ["al"],
  items: [{ itemId: "i", itemName: "n", itemCategory: "cat", itemBrand: "b", itemVariant: "v", itemGroupId: "g", itemListName: "l", itemListId: "li", itemImageUrl: "https://img", price: 10, quantity: 1, currency: "EUR", couponCode: "ic", discount: 0, merchantId: "m" }],
  properties: [{ key: "campaign", value: "x" }],
  context: { ip: "1.2.3.4", dataProtection: true, userAgent: "Mozilla/5.0", deviceType: "mobile", platform: "ios", country: "DE", city: "Berlin", locale: "en-US", pageUrl: "https://x", referrer: "https://y" },
};

type Reason = "MISSING_FIELD" | "INVALID_VALUE" | "TOO_LONG" | "TOO_MANY" | null;
interface Case { name: string; query: string; variables: Record<string, unknown>; field: string; reason: Reason }

const LONE_SURROGATE = "bad\uD800text";
const SQL = "'; DROP TABLE events; --";
const SCRIPT = "<script>alert(1)</script>";
const EMOJI = "💸🔥";

function withValue(path: string, value: unknown) {
  const event = structuredClone(BASE_EVENT) as Record<string, any>;
  const keys = path.split(".");
  let target = event;
  for (const k of keys.slice(0, -1)) target = target[k];
  if (value === undefined) delete target[keys.at(-1)!];
  else target[keys.at(-1)!] = value;
  return event;
}

function eventCases(): Case[] {
  const cases: Case[] = [];
  const add = (path: string, value: unknown, reason: Reason, field = path.split(".").at(-1)!) =>
    cases.push({ name: `trackEvent ${path} = ${JSON.stringify(value)?.slice(0, 40)}`, query: TRACK_EVENT, variables: { event: withValue(path, value) }, field, reason });

  for (const id of ["eventId", "transactionId", "userId", "anonymousId", "sessionId", "cartId", "couponCode", "items.0.itemId", "items.0.itemGroupId", "items.0.itemListId", "items.0.couponCode", "items.0.merchantId"]) {
    add(id, "", "INVALID_VALUE");
    add(id, "   ", "INVALID_VALUE");
    add(id, "x".repeat(129), "TOO_LONG");
    add(id, LONE_SURROGATE, "INVALID_VALUE");
    add(id, 42, null);
    add(id, { nested: true }, null);
  }
  for (const name of ["items.0.itemName", "items.0.itemCategory", "items.0.itemBrand", "items.0.itemVariant", "items.0.itemListName"]) {
    add(name, "x".repeat(256), "TOO_LONG");
    add(name, "", "INVALID_VALUE");
    add(name, LONE_SURROGATE, "INVALID_VALUE");
  }
  for (const url of ["items.0.itemImageUrl", "context.pageUrl", "context.referrer"]) add(url, "https://x/" + "a".repeat(2048), "TOO_LONG");
  for (const money of ["revenue", "discount", "shipping", "tax", "items.0.price", "items.0.discount"]) {
    add(money, -1, "INVALID_VALUE");
    add(money, -0.01, "INVALID_VALUE");
    add(money, 1e13, "INVALID_VALUE");
    add(money, "NaN", null);
    add(money, "Infinity", null);
    add(money, "12.5", null);
    add(money, true, null);
  }
  for (const currency of ["currency", "items.0.currency"]) {
    for (const bad of ["XXX", "ZZZ", "US", "USDD", "usd1", "", EMOJI, SQL, SCRIPT]) add(currency, bad, "INVALID_VALUE");
    add(currency, 978, null);
  }
  add("eventType", "PURCHASED", null);
  add("eventType", "purchase", null);
  add("eventType", SQL, null);
  add("eventType", undefined, null);
  add("transactionId", undefined, "MISSING_FIELD");
  add("revenue", undefined, "MISSING_FIELD");
  add("timestamp", "2026-03-10T14:00:00Z", "INVALID_VALUE"); // two hours ahead
  add("timestamp", "2030-01-01T00:00:00Z", "INVALID_VALUE");
  add("timestamp", "2000-01-01T00:00:00Z", "INVALID_VALUE"); // older than the retention
  add("timestamp", 946684800, "INVALID_VALUE"); // epoch seconds, year 2000
  for (const bad of ["yesterday", "2026-13-01T00:00:00Z", "2026-03-10", "2026-03-10T11:00:00", SQL, EMOJI, "", true]) add("timestamp", bad, null);
  add("aliases", Array.from({ length: 101 }, (_, i) => `al-${i}`), "TOO_MANY");
  add("aliases", [""], "INVALID_VALUE");
  add("aliases", ["x".repeat(129)], "TOO_LONG");
  add("aliases", [42], null);
  add("items", Array.from({ length: 201 }, (_, i) => ({ itemId: `i-${i}` })), "TOO_MANY");
  add("items.0.quantity", 0, "INVALID_VALUE");
  add("items.0.quantity", -1, "INVALID_VALUE");
  add("items.0.quantity", 1_000_001, "INVALID_VALUE");
  add("items.0.quantity", 1.5, null);
  add("items.0.quantity", "2", null);
  add("items.0.itemId", undefined, null);
  add("properties", Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: "v" })), "TOO_MANY");
  add("properties", [{ key: "a", value: "1" }, { key: "a", value: "2" }], "INVALID_VALUE");
  add("properties", [{ key: "k".repeat(65), value: "v" }], "TOO_LONG", "properties.key");
  add("properties", [{ key: "note", value: "v".repeat(1025) }], "TOO_LONG", "properties.note");
  add("properties", [{ key: "campaign", value: "c".repeat(256) }], "TOO_LONG", "properties.campaign");
  add("properties", [{ key: "note", value: LONE_SURROGATE }], "INVALID_VALUE", "properties.note");
  add("properties", [{ key: "note" }], null, "value");
  for (const bad of ["XX", "USA", "de1", "", EMOJI, SQL]) add("context.country", bad, bad.length > 2 ? "TOO_LONG" : "INVALID_VALUE", "country");
  for (const bad of ["999.1.1.1", "1.2.3", "0x7f.1", "01.2.3.4", "not an ip", "::g", SQL, SCRIPT]) add("context.ip", bad, "INVALID_VALUE", "ip");
  for (const bad of ["not a locale!!", "e", SCRIPT]) add("context.locale", bad, "INVALID_VALUE", "locale");
  add("context.locale", "x".repeat(36), "TOO_LONG", "locale");
  add("context.userAgent", "M".repeat(1025), "TOO_LONG", "userAgent");
  add("context.deviceType", "d".repeat(33), "TOO_LONG", "deviceType");
  add("context.platform", "p".repeat(33), "TOO_LONG", "platform");
  add("context.city", "c".repeat(129), "TOO_LONG", "city");
  add("context.dataProtection", "false", null, "dataProtection");
  return cases;
}

const RANGE_QUERY = `query ($range: DateRange) { overview(range: $range) { days } }`;

function queryCases(): Case[] {
  const cases: Case[] = [];
  const add = (name: string, query: string, variables: Record<string, unknown>, field: string, reason: Reason = null) =>
    cases.push({ name, query, variables, field, reason });
  const ranges: [unknown, string][] = [
    [{ days: 0 }, "days"], [{ days: -1 }, "days"], [{ days: "7" }, "days"], [{ days: 1.5 }, "days"], [{ days: 2 ** 31 }, "days"],
    [{ start: "2026-02-30", end: "2026-03-01" }, "start"], [{ start: "03/01/2026", end: "2026-03-02" }, "start"], [{ start: SQL, end: "2026-03-01" }, "start"],
    [{ start: EMOJI, end: "2026-03-01" }, "start"], [{ start: "2026-03-01", end: "2026-3-2" }, "end"], [{ start: "2026-03-01" }, "end"], [{ end: "2026-03-01" }, "start"],
    [{ start: "2026-03-05", end: "2026-03-01" }, "start"], [{ days: 3, start: "2026-03-01", end: "2026-03-02" }, "days"], [{ start: "2027-01-01", end: "2027-01-02" }, "start"],
    [{ start: "2020-01-01", end: "2020-01-31" }, "end"], [{ nope: 1 }, "nope"], ["last week", "range"],
  ];
  for (const [range, field] of ranges) {
    for (const report of ["overview", "revenueTimeseries", "funnel", "topProducts", "revenueByChannel", "revenueByCoupon", "revenueByDevice",
      "revenueByPlatform", "revenueByCountry", "cartAbandonment", "attribution", "ingestionStats"]) {
      add(`${report} range ${JSON.stringify(range)}`, `query ($range: DateRange) { ${report}(range: $range) { __typename } }`, { range }, field);
    }
  }
  for (const limit of [0, -1, 101, "10", 1.5]) add(`topProducts limit ${limit}`, `query ($limit: Int) { topProducts(limit: $limit) { days } }`, { limit }, "limit");
  for (const limit of [0, 1001, "5"]) add(`revenueBreakdown limit ${limit}`, `query ($limit: Int) { revenueBreakdown(by: [COUNTRY], limit: $limit) { days } }`, { limit }, "limit");
  for (const by of [[], ["NOPE"], ["COUNTRY", "COUNTRY"], null, "COUNTRY; DROP"]) {
    add(`revenueBreakdown by ${JSON.stringify(by)}`, `query ($by: [BreakdownDimension!]!) { revenueBreakdown(by: $by) { days } }`, { by }, "by");
  }
  for (const window of [0, 10, 365, "30", -7]) add(`attribution window ${window}`, `query ($window: Int) { attribution(window: $window) { windowDays } }`, { window }, "window");
  for (const model of ["BEST", "last_click", SQL]) add(`attribution model ${model}`, `query ($model: AttributionModel) { attribution(model: $model) { model } }`, { model }, "model");
  for (const months of [0, 25, -1, "6", 2.5]) add(`cohorts months ${months}`, `query ($months: Int) { cohorts(months: $months) { avgLtv } }`, { months }, "months");
  for (const userId of ["", "x".repeat(129), null, 7]) {
    add(`userJourney userId ${JSON.stringify(userId)?.slice(0, 20)}`, `query ($userId: String!) { userJourney(userId: $userId) { userId } }`, { userId }, "userId");
    add(`deleteUser userId ${JSON.stringify(userId)?.slice(0, 20)}`, `mutation ($userId: String!) { deleteUser(userId: $userId) { id } }`, { userId }, "userId");
  }
  add("userJourney limit 0", `{ userJourney(userId: "u", limit: 0) { userId } }`, {}, "limit");
  add("userJourney limit 5001", `{ userJourney(userId: "u", limit: 5001) { userId } }`, {}, "limit");
  add("deleteUser dryRun string", `mutation ($dryRun: Boolean) { deleteUser(userId: "u", dryRun: $dryRun) { id } }`, { dryRun: "no" }, "dryRun");
  for (const id of [null, { id: 1 }]) add(`userDeletion id ${JSON.stringify(id)}`, `query ($id: ID!) { userDeletion(id: $id) { id } }`, { id }, "id");
  add("overview compareTo", `query ($compareTo: CompareTo) { overview(compareTo: $compareTo) { days } }`, { compareTo: "LAST_YEAR" }, "compareTo");
  add("overview includeFlagged", `query ($includeFlagged: Boolean) { overview(includeFlagged: $includeFlagged) { days } }`, { includeFlagged: "yes" }, "includeFlagged");
  add("trackEvents empty", TRACK_EVENTS, { events: [] }, "events");
  add("trackEvents 101", TRACK_EVENTS, { events: Array.from({ length: 101 }, () => ({ eventType: "SEARCH" })) }, "events");
  add("trackEvents null", TRACK_EVENTS, { events: null }, "events");
  add("trackEvents not a list", TRACK_EVENTS, { events: "SEARCH" }, "events");
  add("trackEvent null", TRACK_EVENT, { event: null }, "event");
  return cases;
}

const CASES = [...eventCases(), ...queryCases()];

/** The first scope that opens the operation a case calls (its name's first word). */
const scopeOf = (c: Case): Scope => OPENED_BY[c.name.split(" ")[0]][0];

describe.each(dbTargets())("the bad-input matrix on $name", target => {
  let h: Harness;
  let sk: string;
  /** A secret key of each scope alone, in the same appspace. */
  const scoped = {} as Record<Scope, string>;

  beforeAll(async () => {
    h = await startHarness(target, [], () => NOW);
    const space = await h.appspace({ currency: "EUR", retentionDays: 365 });
    sk = space.secretKey;
    for (const scope of SCOPES) scoped[scope] = (await createKey(h.db, space.appspaceId, "secret", { scopes: scope })).key;
    // The base event itself is valid: each case breaks one thing.
    const { secretKey: other } = await h.appspace({ name: "control", currency: "EUR" });
    expect((await h.gql(TRACK_EVENT, { event: BASE_EVENT }, other)).body).toEqual({ data: { trackEvent: { ok: true } } });
  });
  afterAll(() => h.close());

  it("has at least 200 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(200);
  });

  it.each(CASES.map(c => [c.name, c] as const))("%s", async (_name, c) => {
    const res = await h.gql(c.query, c.variables, sk);
    expect(res.status).toBe(400);
    expect(res.body.data ?? null).toBeNull();
    const [error] = res.body.errors!;
    expect(error.extensions!.code).toBe("BAD_USER_INPUT");
    expect(error.extensions!.reason ?? null).toBe(c.reason);
    expect(error.message).toContain(c.field);
    expect(JSON.stringify(res.body)).not.toMatch(/stack|SELECT|INSERT|sqlite|mysql|QueryFailedError/i);

    // A key with the operation's scope alone gets the same answer. A key without it: a document that does not fit
    // the schema's types is refused before anything runs (no data in the answer), the same 400 for every key;
    // anything else is refused for the scope first, 403 naming it, before its values are looked at.
    const needed = scopeOf(c);
    const narrow = await h.gql(c.query, c.variables, scoped[needed]);
    expect({ status: narrow.status, body: narrow.body }).toEqual({ status: 400, body: res.body });
    const without = await h.gql(c.query, c.variables, scoped[needed === "reports:read" ? "ingest" : "reports:read"]);
    if (!("data" in res.body)) {
      expect({ status: without.status, body: without.body }).toEqual({ status: 400, body: res.body });
    } else {
      expect(without.status).toBe(403);
      expect(without.body.errors).toEqual([expect.objectContaining({ extensions: { code: "FORBIDDEN", scope: needed } })]);
    }
  });

  it("stored nothing from any of them", async () => {
    for (const table of ["events", "event_items", "event_properties", "identity_links", "identity_persons", "orders", "deletion_requests"]) {
      expect({ table, rows: await h.count(table, table === "deletion_requests" ? "1 = 1" : "appspace_id <> (SELECT MAX(id) FROM appspaces)") })
        .toEqual({ table, rows: 0 });
    }
  });

  it("refuses a body over 1 MB with 413 and malformed JSON with 400", async () => {
    const big = await h.post(JSON.stringify({ query: TRACK_EVENTS, variables: { events: [{ eventType: "SEARCH", userId: "x".repeat(1_100_000) }] } }), { authorization: `Bearer ${sk}` });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.text)).toEqual({ errors: [{ message: "Request body is larger than 1MB", extensions: { code: "PAYLOAD_TOO_LARGE" } }] });
    const broken = await h.post(`{"query": "{ overview { days } }"`, { authorization: `Bearer ${sk}` });
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.text).errors[0].extensions.code).toBe("BAD_REQUEST");
    const invalidBytes = await fetch(h.url, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${sk}` },
      body: Buffer.concat([Buffer.from(`{"query":"mutation { trackEvent(event: { eventType: SEARCH, currency: \\"`), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from(`\\" }) { ok } }"}`)]),
    });
    expect(invalidBytes.status).toBe(400);
    expect(((await invalidBytes.json()) as { errors: unknown[] }).errors[0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT", reason: "INVALID_VALUE" }, message: expect.stringContaining("currency") });
  });
});
