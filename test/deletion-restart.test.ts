import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { dbTargets } from "./helpers/databases";
import { TRACK_EVENTS } from "./helpers/documents";
import { gqlAt, ServerProcess, startServerProcess } from "./helpers/process";

const VICTIM_EVENTS: Record<string, unknown>[] = [
  ...Array.from({ length: 40 }, (_, n) => ({
    eventType: "VIEW_ITEM", ...(n % 2 ? { userId: "victim" } : { anonymousId: "v-anon" }), items: [{ itemId: `sku-${n}` }],
  })),
  { eventType: "VIEW_CART", userId: "victim", anonymousId: "v-anon" },
];
const OTHER_EVENTS = [1, 2, 3].map(n => ({ eventType: "SEARCH", userId: "other", eventId: `o-${n}` }));

/** The server is killed (SIGKILL) in the middle of a deletion; once restarted, it finishes the request. */
describe.each(dbTargets())("a deletion interrupted by a crash on $name", target => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let drop: () => Promise<void>;
  let server: ServerProcess | null = null;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "analytics-"));
    const created = await target.create();
    drop = created.drop;
    env = {
      DATABASE_URL: created.databaseUrl ?? "",
      SQLITE_PATH: path.join(dir, "db.sqlite"),
      // Small, slow chunks, and a short lease so the restarted server takes the request over quickly.
      DELETION_CHUNK_SIZE: "5",
      DELETION_PAUSE_MS: "300",
      DELETION_LEASE_MS: "1000",
    };
  });
  afterAll(async () => {
    await server?.stop();
    await drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("resumes at start-up and completes", async () => {
    server = await startServerProcess(env);
    const pk = /publishable key: (pk_\S+)/.exec(server.out())![1];
    const sk = /secret key: +(sk_\S+)/.exec(server.out())![1];
    for (const events of [VICTIM_EVENTS, OTHER_EVENTS]) {
      expect((await gqlAt(server.url, pk, TRACK_EVENTS, { events })).data.trackEvents).toEqual({ ok: true, accepted: events.length, errors: [] });
    }

    const { id } = (await gqlAt(server.url, sk, DELETE_USER, { userId: "victim" })).data.deleteUser;
    const status = async (url: string) => (await gqlAt(url, sk, USER_DELETION, { id })).data.userDeletion;
    let seen = await status(server.url);
    while (seen.eventsDeleted < 5) {
      await new Promise(r => setTimeout(r, 20));
      seen = await status(server.url);
    }
    server.child.kill("SIGKILL");
    await new Promise(r => server!.child.once("exit", r));
    expect(seen.status).toBe("RUNNING");
    expect(seen.eventsDeleted).toBeLessThan(VICTIM_EVENTS.length);

    server = await startServerProcess(env);
    const started = Date.now();
    let done = await status(server.url);
    while (done.status !== "DONE" && Date.now() - started < 30_000) {
      await new Promise(r => setTimeout(r, 100));
      done = await status(server.url);
    }
    expect(done).toEqual({ status: "DONE", eventsDeleted: VICTIM_EVENTS.length, identifiersDeleted: 2, deletedUserId: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/) });

    const journey = async (userId: string) => (await gqlAt(server!.url, sk, JOURNEY, { userId })).data.userJourney;
    expect(await journey("victim")).toEqual({ identifiers: ["victim"], events: [] });
    expect(await journey("v-anon")).toEqual({ identifiers: ["v-anon"], events: [] });
    expect((await journey("other")).events).toHaveLength(3);
  }, 60_000);
});

const DELETE_USER = /* GraphQL */ `mutation ($userId: String!) { deleteUser(userId: $userId) { id } }`;
const USER_DELETION = /* GraphQL */ `query ($id: ID!) { userDeletion(id: $id) { status eventsDeleted identifiersDeleted deletedUserId } }`;
const JOURNEY = /* GraphQL */ `query ($userId: String!) { userJourney(userId: $userId) { identifiers events { eventType } } }`;
