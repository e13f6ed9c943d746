import { createKey, revokeKey } from "../src/appspaces/appspace.service";
import { dbTargets } from "./helpers/databases";
import { DELETE_USER, OVERVIEW, TRACK_EVENT, TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

const SEARCH = { eventType: "SEARCH", properties: [{ key: "search_term", value: "shoes" }] };

describe.each(dbTargets())("API keys and tenants on $name", target => {
  let h: Harness;
  let a: { appspaceId: number; publishableKey: string; secretKey: string };
  let b: { appspaceId: number; publishableKey: string; secretKey: string };

  beforeAll(async () => {
    h = await startHarness(target);
    a = await h.appspace({ name: "shop-a" });
    b = await h.appspace({ name: "shop-b", currency: "EUR" });
  });
  afterAll(() => h.close());

  it("stores keys only as hashes, with high-entropy values", async () => {
    expect(a.publishableKey).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    expect(a.secretKey).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
    const rows = await h.db.query("SELECT key_hash, prefix FROM api_keys WHERE appspace_id = ? ORDER BY kind", [a.appspaceId]);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
      expect([a.publishableKey, a.secretKey]).not.toContain(row.key_hash);
    }
    expect(rows.map((r: any) => r.prefix)).toEqual([a.publishableKey.slice(0, 11), a.secretKey.slice(0, 11)]);
  });

  it("answers 401 UNAUTHENTICATED without a key, with an unknown key and with a malformed header", async () => {
    const before = await h.count("events");
    const cases: [Record<string, string>, string][] = [
      [{}, "A valid API key is required: send Authorization: Bearer <key>, or x-api-key: <key>"],
      [{ authorization: "Bearer pk_doesnotexist0000000000000000000000000000000" }, "Unknown or revoked API key"],
      [{ authorization: "Basic Zm9vOmJhcg==" }, "Authorization header must be: Bearer <key> (or send the key as x-api-key: <key>)"],
      [{ "x-api-key": "sk_nope" }, "Unknown or revoked API key"],
    ];
    for (const [headers, message] of cases) {
      const res = await h.post(JSON.stringify({ query: TRACK_EVENT, variables: { event: SEARCH } }), headers);
      expect({ headers, status: res.status }).toEqual({ headers, status: 401 });
      expect(JSON.parse(res.text).errors).toEqual([expect.objectContaining({ message, extensions: { code: "UNAUTHENTICATED" } })]);
    }
    expect(await h.count("events")).toBe(before);
  });

  it("accepts the key in x-api-key too, and either kind of key for ingestion", async () => {
    const viaHeader = await h.post(JSON.stringify({ query: TRACK_EVENT, variables: { event: SEARCH } }), { "x-api-key": a.publishableKey });
    expect(JSON.parse(viaHeader.text)).toEqual({ data: { trackEvent: { ok: true } } });
    expect((await h.gql(TRACK_EVENTS, { events: [SEARCH] }, a.secretKey)).body.data).toEqual({ trackEvents: { ok: true, accepted: 1, errors: [] } });
  });

  it("answers 403 FORBIDDEN naming the scope when a publishable key reads or deletes, and lets a secret key through", async () => {
    for (const [query, variables, operation, scope] of [[OVERVIEW, {}, "overview", "reports:read"], [DELETE_USER, { userId: "u" }, "deleteUser", "people:delete"]] as const) {
      const res = await h.gql(query, variables, a.publishableKey);
      expect(res.status).toBe(403);
      const message = `${operation} needs a key with the scope ${scope}; a publishable key (pk_...) only sends events: use a secret key (sk_...)`;
      expect(res.body.errors).toEqual([expect.objectContaining({ message, extensions: { code: "FORBIDDEN", scope } })]);
    }
    const res = await h.gql(OVERVIEW, {}, a.secretKey);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ overview: { totalRevenue: expect.any(Number) } });
  });

  it("answers a key made with origins from those origins only, and requests without Origin (servers)", async () => {
    const origins = "https://shop.example,http://localhost:5173";
    const { key: pk } = await createKey(h.db, a.appspaceId, "publishable", { origins });
    const { key: sk } = await createKey(h.db, a.appspaceId, "secret", { scopes: "reports:read", origins });
    const send = (key: string, headers: Record<string, string>) =>
      h.post(JSON.stringify({ query: TRACK_EVENT, variables: { event: SEARCH } }), { authorization: `Bearer ${key}`, ...headers });
    const before = await h.count("events", "appspace_id = ?", [a.appspaceId]);
    for (const headers of [{ origin: "https://shop.example" }, { origin: "http://localhost:5173" }, {}] as Record<string, string>[]) {
      expect(JSON.parse((await send(pk, headers)).text)).toEqual({ data: { trackEvent: { ok: true } } });
    }
    for (const origin of ["https://evil.example", "https://shop.example.evil.example", "http://shop.example", "null"]) {
      const res = await send(pk, { origin });
      expect({ origin, status: res.status }).toEqual({ origin, status: 403 });
      expect(JSON.parse(res.text).errors).toEqual([expect.objectContaining({
        message: `This API key may not be used from the origin ${origin}: it is limited to the origins it was made with`, extensions: { code: "FORBIDDEN" },
      })]);
      const read = await h.post(JSON.stringify({ query: OVERVIEW }), { authorization: `Bearer ${sk}`, origin });
      expect(read.status).toBe(403);
    }
    expect(await h.count("events", "appspace_id = ?", [a.appspaceId])).toBe(before + 3);
    const read = await h.post(JSON.stringify({ query: OVERVIEW }), { authorization: `Bearer ${sk}`, origin: "https://shop.example" });
    expect({ status: read.status, data: Object.keys(JSON.parse(read.text).data) }).toEqual({ status: 200, data: ["overview"] });
    // Any other key of the appspace is not limited.
    expect((await send(a.publishableKey, { origin: "https://evil.example" })).status).toBe(200);
  });

  it("refuses a revoked key on its next request", async () => {
    const c = await h.appspace({ name: "shop-c" });
    expect((await h.gql(TRACK_EVENT, { event: SEARCH }, c.publishableKey)).status).toBe(200);
    expect(await revokeKey(h.db, c.publishableKey)).toBe(true);
    const res = await h.gql(TRACK_EVENT, { event: SEARCH }, c.publishableKey);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    expect((await h.gql(TRACK_EVENT, { event: SEARCH }, c.secretKey)).status).toBe(200);
  });

  it("keeps two appspaces apart: their own rows, dedup and catalog", async () => {
    const purchase = (name: string) => ({
      eventType: "PURCHASE", eventId: "same-event", transactionId: "same-order", revenue: 10, userId: "same-user", anonymousId: "same-anon",
      items: [{ itemId: "same-sku", itemName: name }], properties: [{ key: "campaign", value: name }],
    });
    expect((await h.gql(TRACK_EVENT, { event: purchase("from A") }, a.publishableKey)).body.data).toEqual({ trackEvent: { ok: true } });
    expect((await h.gql(TRACK_EVENT, { event: purchase("from B") }, b.publishableKey)).body.data).toEqual({ trackEvent: { ok: true } });
    for (const [space, name, currency] of [[a, "from A", "USD"], [b, "from B", "EUR"]] as const) {
      const events = await h.db.query("SELECT id, campaign, currency FROM events WHERE appspace_id = ? AND event_id = 'same-event'", [space.appspaceId]);
      expect(events.map((e: any) => [e.campaign, e.currency])).toEqual([[name, currency]]);
      const [item] = await h.db.query("SELECT appspace_id, item_name FROM event_items WHERE event_row_id = ?", [events[0].id]);
      expect([Number(item.appspace_id), item.item_name]).toEqual([space.appspaceId, name]);
      const products = await h.db.query("SELECT name FROM products WHERE appspace_id = ? AND item_id = 'same-sku'", [space.appspaceId]);
      expect(products).toEqual([{ name }]);
      expect(await h.count("identity_links", "appspace_id = ? AND identifier = 'same-anon'", [space.appspaceId])).toBe(1);
      expect(await h.count("orders", "appspace_id = ? AND transaction_id = 'same-order'", [space.appspaceId])).toBe(1);
    }
    // Every detail row carries the appspace of its event.
    for (const table of ["event_items", "event_properties"]) {
      const mismatched = await h.db.query(`SELECT COUNT(*) AS n FROM ${table} d JOIN events e ON e.id = d.event_row_id WHERE d.appspace_id <> e.appspace_id`);
      expect(Number(mismatched[0].n)).toBe(0);
    }
  });

  it("serves introspection without a key, for Apollo Sandbox", async () => {
    const res = await h.gql("{ __schema { mutationType { fields { name } } } }");
    expect(res.status).toBe(200);
    expect(res.body.data?.__schema.mutationType.fields.map((f: any) => f.name).sort()).toEqual(["deleteUser", "trackEvent", "trackEvents"]);
  });
});
