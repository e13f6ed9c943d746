import { updateSettings } from "../src/appspaces/appspace.service";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENT, TRACK_EVENTS } from "./helpers/documents";
import { Harness, startHarness } from "./helpers/harness";

const GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const IP = "203.0.113.7";

/*
 * One batch trips every fraud rule once, two purchases trip velocity (limit 2 a minute):
 *   a Googlebot view (bot), a 5000.00 purchase over the 1000.00 maximum (max_order_value), a 100.00 purchase whose
 *   one item is 10.00 (items_mismatch), the third purchase of "fast" (velocity, per person), the third purchase from
 *   one IP by three people (velocity, per IP), a search in JPY where only EUR and USD are accepted (currency),
 *   plus the clean events: ok's 50.00, fast's and the IP's first two purchases of 10.00 each; and one invalid event.
 * Clean revenue: 50 + 2 x 10 + 2 x 10 = 90.00 in 5 orders; with the flagged ones: 90 + 5000 + 100 + 10 + 10 = 5210.00 in 9.
 */
const purchase = (userId: string, n: number, revenue = 10, extra: object = {}) => ({ eventType: "PURCHASE", userId, transactionId: `${userId}-${n}`, revenue, ...extra });
const EVENTS = [
  { eventType: "VIEW_ITEM", userId: "crawler", items: [{ itemId: "sku" }], context: { userAgent: GOOGLEBOT } },
  purchase("big", 1, 5000),
  purchase("mm", 1, 100, { items: [{ itemId: "sku", price: 10 }] }),
  purchase("fast", 1), purchase("fast", 2), purchase("fast", 3),
  ...[1, 2, 3].map(n => purchase(`ip-${n}`, 1, 10, { context: { ip: IP } })),
  { eventType: "SEARCH", userId: "yen", currency: "JPY" },
  purchase("ok", 1, 50),
  { eventType: "PURCHASE", revenue: 5 }, // no transactionId: rejected
];
const RULES = { maxOrderValue: 1000, purchasesPerMinute: 2, allowedCurrencies: ["EUR", "USD"] };
const severities = (s: 1 | 2) => ({ bot: s, max_order_value: s, items_mismatch: s, velocity: s, currency: s });

describe.each(dbTargets())("trust and safety on $name", target => {
  let h: Harness;
  let clock = new Date("2026-03-10T12:00:00Z");

  beforeAll(async () => {
    h = await startHarness(target, [], () => clock, { rateLimitWindowSeconds: 1 });
  });
  afterAll(() => h.close());

  const space = async (settings: object, plan?: "free" | "pro") => {
    const created = await h.appspace({ currency: "EUR", plan });
    await updateSettings(h.db, created.appspaceId, settings);
    return created;
  };

  it.each([1, 2] as const)("fraud rules of severity %d", async severity => {
    const { secretKey, appspaceId } = await space({ ...RULES, severities: severities(severity) });
    // From a shop's server (the secret key): its connection's address is not the buyers' (see the velocity test below).
    const res = await h.gql(TRACK_EVENTS, { events: EVENTS }, secretKey);
    // Blocked or not, every valid event is answered as accepted, so detection is not revealed.
    expect(res.body.data!.trackEvents).toEqual({
      ok: true, accepted: EVENTS.length - 1,
      errors: [{ index: EVENTS.length - 1, code: "MISSING_FIELD", message: `events[${EVENTS.length - 1}]: transactionId is required for PURCHASE events` }],
    });
    const flags = await h.db.query("SELECT user_id, flags FROM events WHERE appspace_id = ? AND flags IS NOT NULL ORDER BY user_id", [appspaceId]);
    expect(flags).toEqual(severity === 1
      ? [
        { user_id: "big", flags: "max_order_value" }, { user_id: "crawler", flags: "bot" }, { user_id: "fast", flags: "velocity" },
        { user_id: "ip-3", flags: "velocity" }, { user_id: "mm", flags: "items_mismatch" }, { user_id: "yen", flags: "currency" },
      ]
      : []);
    expect(await h.count("events", "appspace_id = ?", [appspaceId])).toBe(severity === 1 ? 11 : 5);

    const overview = `query ($flagged: Boolean) { overview(includeFlagged: $flagged) { totalRevenue totalOrders } }`;
    expect((await h.gql(overview, { flagged: false }, secretKey)).body.data).toEqual({ overview: { totalRevenue: 90, totalOrders: 5 } });
    expect((await h.gql(overview, { flagged: true }, secretKey)).body.data)
      .toEqual({ overview: severity === 1 ? { totalRevenue: 5210, totalOrders: 9 } : { totalRevenue: 90, totalOrders: 5 } });

    const stats = await h.gql(STATS, {}, secretKey);
    const outcome = severity === 1 ? "flagged" : "blocked";
    const rule = (name: string, n: number) => ({ rule: name, flagged: severity === 1 ? n : 0, blocked: severity === 2 ? n : 0 });
    expect(stats.body.data!.ingestionStats).toEqual({
      accepted: 11, stored: 5, duplicates: 0, rejected: 1, days: 30,
      flagged: outcome === "flagged" ? 6 : 0, blocked: outcome === "blocked" ? 6 : 0,
      rules: [rule("bot", 1), rule("currency", 1), rule("items_mismatch", 1), rule("max_order_value", 1), rule("velocity", 2)],
      errors: [{ code: "MISSING_FIELD", count: 1 }],
    });
  });

  describe("velocity by the client's address when an event does not say it", () => {
    const send = (key: string, userId: string, headers: Record<string, string> = {}, harness = h) =>
      harness.post(JSON.stringify({ query: TRACK_EVENT, variables: { event: purchase(userId, 1) } }), { authorization: `Bearer ${key}`, ...headers });
    const flagged = async (appspaceId: number, harness = h) =>
      (await harness.db.query("SELECT user_id FROM events WHERE appspace_id = ? AND flags = 'velocity' ORDER BY user_id", [appspaceId])).map((r: { user_id: string }) => r.user_id);
    const limits = { purchasesPerMinute: 2 }; // velocity flags (severity 1) by default
    const PUBLIC = ["81.2.69.142", "81.2.69.143", "81.2.69.144"];

    it("does not count a private or loopback connection (a load balancer's), nor a server's (secret key)", async () => {
      const { publishableKey, secretKey, appspaceId } = await space(limits);
      for (const userId of ["b-1", "b-2", "b-3"]) expect((await send(publishableKey, userId)).status).toBe(200);
      for (const userId of ["s-1", "s-2", "s-3"]) expect((await send(secretKey, userId)).status).toBe(200);
      // X-Forwarded-For is not believed from an untrusted connection: three purchases "from" one address count nothing.
      for (const userId of ["x-1", "x-2", "x-3"]) await send(publishableKey, userId, { "x-forwarded-for": PUBLIC[0] });
      expect(await flagged(appspaceId)).toEqual([]);
    });

    it("counts a browser's public address as a trusted proxy says it (TRUST_PROXY)", async () => {
      const behindProxy = await startHarness(target, [], () => clock, { trustProxy: 1 });
      try {
        const { publishableKey, secretKey, appspaceId } = await behindProxy.appspace({ currency: "EUR" });
        await updateSettings(behindProxy.db, appspaceId, limits);
        for (const [n, ip] of PUBLIC.entries()) await send(publishableKey, `p-${n}`, { "x-forwarded-for": ip }, behindProxy);
        expect(await flagged(appspaceId, behindProxy)).toEqual([]);
        for (const n of [3, 4, 5]) await send(publishableKey, `p-${n}`, { "x-forwarded-for": "81.2.69.200" }, behindProxy);
        // A private address behind the proxy (an office network's) and a server's requests are not counted.
        for (const n of [6, 7, 8]) await send(publishableKey, `p-${n}`, { "x-forwarded-for": "10.0.0.7" }, behindProxy);
        for (const n of [9, 10, 11]) await send(secretKey, `p-${n}`, { "x-forwarded-for": "81.2.69.201" }, behindProxy);
        expect(await flagged(appspaceId, behindProxy)).toEqual(["p-5"]);
      } finally {
        await behindProxy.close();
      }
    });
  });

  it("counts duplicates in the stats", async () => {
    const { publishableKey, secretKey } = await space({});
    const events = [purchase("dup", 1), purchase("dup", 1), { eventType: "SEARCH", eventId: "s-1" }, { eventType: "SEARCH", eventId: "s-1" }];
    expect((await h.gql(TRACK_EVENTS, { events }, publishableKey)).body.data!.trackEvents.accepted).toBe(4);
    expect((await h.gql(STATS, {}, secretKey)).body.data!.ingestionStats).toMatchObject({ accepted: 4, stored: 2, duplicates: 2, flagged: 0, blocked: 0 });
  });

  it("refuses ingestion on the free plan", async () => {
    const { publishableKey, appspaceId } = await space({}, "free");
    const res = await h.gql(TRACK_EVENT, { event: { eventType: "SEARCH" } }, publishableKey);
    expect(res.status).toBe(403);
    expect(res.body.errors).toEqual([expect.objectContaining({ message: "Ecommerce events are not available on the free tier", extensions: { code: "FORBIDDEN" } })]);
    expect(await h.count("events", "appspace_id = ?", [appspaceId])).toBe(0);
  });

  it("stops at the monthly quota with 429 QUOTA_EXCEEDED, and takes events again the next month", async () => {
    const { publishableKey, appspaceId } = await space({ monthlyEventQuota: 3 });
    const send = (n: number) => h.gql(TRACK_EVENTS, { events: Array.from({ length: n }, () => ({ eventType: "SEARCH" })) }, publishableKey);
    expect((await send(2)).body.data!.trackEvents.accepted).toBe(2);
    const over = await send(2);
    expect(over.status).toBe(429);
    expect(over.body.errors).toEqual([expect.objectContaining({
      message: "Monthly event quota of 3 events reached; it renews on the 1st (UTC)", extensions: { code: "QUOTA_EXCEEDED" },
    })]);
    expect(await h.count("events", "appspace_id = ?", [appspaceId])).toBe(2);
    expect((await send(1)).body.data!.trackEvents.accepted).toBe(1);
    expect((await send(1)).status).toBe(429);

    clock = new Date("2026-04-01T00:00:01Z");
    expect((await send(1)).body.data!.trackEvents.accepted).toBe(1);
    expect(await h.count("events", "appspace_id = ?", [appspaceId])).toBe(4);
    clock = new Date("2026-03-10T12:00:00Z");
  });

  it("limits requests per key with 429 and Retry-After, and lets them through once the window passes", async () => {
    const { secretKey } = await space({ requestLimit: 3 });
    const call = () => fetch(h.url, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${secretKey}` },
      body: JSON.stringify({ query: "{ overview { days } }" }),
    });
    // Four at once, so that they share the window (a second from the first), however slowly each is answered.
    const answers = await Promise.all([call(), call(), call(), call()]);
    expect(answers.map(a => a.status).sort()).toEqual([200, 200, 200, 429]);
    const limited = answers.find(a => a.status === 429)!;
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(await limited.json()).toEqual({ errors: [{ message: "Too many requests for this API key; retry in 1 s", extensions: { code: "RATE_LIMITED" } }] });
    await new Promise(r => setTimeout(r, 1100));
    expect((await call()).status).toBe(200);
  });
});

const STATS = /* GraphQL */ `
  { ingestionStats { accepted stored flagged duplicates blocked rejected days rules { rule flagged blocked } errors { code count } } }
`;
