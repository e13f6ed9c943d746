import http from "node:http";
import { getIntrospectionQuery } from "graphql";
import { dbTargets } from "./helpers/databases";
import { Harness, startHarness } from "./helpers/harness";

const [sqlite] = dbTargets();

describe.each([false, true])("GraphQL hardening (production: %s)", production => {
  let h: Harness;
  let sk: string;

  beforeAll(async () => {
    h = await startHarness(sqlite, [], undefined, { production });
    ({ secretKey: sk } = await h.appspace());
  });
  afterAll(() => h.close());

  const send = (query: string) => h.gql(query, {}, sk);

  it.each([
    ["depth", `{ userJourney(userId: "u") { events { items { product { itemId } } } } }`, null],
    ["Sandbox's introspection", getIntrospectionQuery(), production ? /introspection is not allowed/i : null],
    ["depth over 25", `{ __schema { types { fields { type { ${"ofType { ".repeat(21)}name${" }".repeat(21)} } } } } }`, production ? /introspection is not allowed|depth limit of 25 exceeded/ : /Query depth limit of 25 exceeded, found 26/],
    ["aliases over 15", `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: overview { days }`).join(" ")} }`, /Aliases limit of 15 exceeded/],
    ["directives over 10", `{ overview { ${Array.from({ length: 11 }, (_, i) => `d${i}: days @include(if: true)`).join(" ")} } }`, /Directives limit of 10 exceeded/],
    ["tokens over 5000", `{ overview { ${"days ".repeat(5000)} } }`, /Document contains more tha[nt] 5000 tokens/],
    ["cost over 1000", `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: userJourney(userId: "u") { identifiers events { eventType timestamp transactionId revenue items { itemId itemName price quantity product { itemId name category brand variant groupId imageUrl lastSeenAt } } } }`).join(" ")} }`, /Query Cost limit of 1000 exceeded, found 1211/],
  ])("%s", async (_name, query, rejected) => {
    const res = await send(query);
    if (!rejected) {
      expect(res.body.errors).toBeUndefined();
      return;
    }
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ message: expect.stringMatching(rejected) })]));
    for (const error of res.body.errors!) expect(error.extensions!.code).toMatch(/^GRAPHQL_(VALIDATION|PARSE)_FAILED$/);
  });

  it(production ? "hides field suggestions" : "suggests fields in development", async () => {
    const res = await send(`{ overview { totalRevenu } }`);
    expect(res.status).toBe(400);
    const message = res.body.errors![0].message;
    if (production) expect(message).not.toMatch(/Did you mean/);
    else expect(message).toMatch(/Did you mean "totalRevenue"/);
  });

  it(production ? "refuses introspection" : "allows introspection (Apollo Sandbox)", async () => {
    const res = await send(`{ __schema { queryType { name } } }`);
    if (production) {
      expect(res.status).toBe(400);
      expect(res.body.errors![0].message).toMatch(/introspection is not allowed/i);
    } else {
      expect(res.body.data).toEqual({ __schema: { queryType: { name: "Query" } } });
    }
  });

  it("tells a POST without content-type: application/json in one line what to send, and stores nothing", async () => {
    const hint = 'Send the request with content-type: application/json (a JSON body such as {"query": "{ overview { totalRevenue } }"})';
    const before = await h.count("events");
    for (const headers of [{}, { "content-type": "text/plain" }, { "content-type": "application/x-www-form-urlencoded" }] as Record<string, string>[]) {
      const res = await fetch(h.url, { method: "POST", headers: { authorization: `Bearer ${sk}`, ...headers }, body: JSON.stringify({ query: TRACK_EVENT_SEARCH }) });
      expect([res.status, await res.json()]).toEqual([400, { errors: [{ message: hint, extensions: { code: "BAD_REQUEST" } }] }]);
    }
    expect(await h.count("events")).toBe(before);
    const json = await h.post(JSON.stringify({ query: "{ __typename }" }), { authorization: `Bearer ${sk}`, "content-type": "application/json; charset=utf-8" });
    expect(JSON.parse(json.text)).toEqual({ data: { __typename: "Query" } });
  });

  it("refuses batched requests, GET mutations and simple (CSRF-able) GET requests", async () => {
    const batched = await h.post(JSON.stringify([{ query: "{ overview { days } }" }, { query: "{ funnel { days } }" }]), { authorization: `Bearer ${sk}` });
    expect(batched.status).toBe(400);
    expect(batched.text).toMatch(/batch/i);

    const get = (query: string, headers: Record<string, string>) =>
      fetch(`${h.url}?query=${encodeURIComponent(query)}`, { headers: { authorization: `Bearer ${sk}`, ...headers } });
    const simple = await get("{ overview { days } }", {});
    expect(simple.status).toBe(400);
    expect(await simple.text()).toMatch(/CSRF/);
    const preflighted = await get("{ overview { days } }", { "apollo-require-preflight": "true" });
    expect(preflighted.status).toBe(200);
    expect(await preflighted.json()).toEqual({ data: { overview: { days: 30 } } });
    const mutation = await get(`mutation { trackEvent(event: { eventType: SEARCH }) { ok } }`, { "apollo-require-preflight": "true" });
    expect(mutation.status).toBe(405);
    expect(await h.count("events")).toBe(0);
  });
});

const TRACK_EVENT_SEARCH = `mutation { trackEvent(event: { eventType: SEARCH }) { ok } }`;

describe("HTTP keep-alive", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(sqlite);
  });
  afterAll(() => h.close());

  it("keeps an idle connection open past Node's 5 s default, so a client reusing it is served", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () => new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
      const req = http.get(h.url.replace("/graphql", "/health"), { agent }, res => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
      });
      req.on("error", reject);
    });
    try {
      expect(await get()).toEqual({ status: 200, reused: false });
      await new Promise(r => setTimeout(r, 8_000)); // Node closes an idle connection 5 to 7 s in by default
      expect(await get()).toEqual({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  }, 15_000);
});
