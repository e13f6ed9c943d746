import http from "node:http";
import mysql from "mysql2/promise";
import { multiRowInsert } from "../db/sql";
import { EVENT_COLUMNS, ITEM_COLUMNS } from "../events/columns";
import { rawRows } from "./rows";

/*
 * The single-ingest baseline: the least a server can do per event, node:http
 * parsing the JSON body and mysql2 inserting the event and its items in one
 * transaction. DATABASE_URL, APPSPACE_ID and START_ID (the first row id) from the
 * environment; prints its port.
 */
const pool = mysql.createPool({ uri: process.env.DATABASE_URL!, connectionLimit: 10, timezone: "Z" });
const appspaceId = Number(process.env.APPSPACE_ID);
let nextId = Number(process.env.START_ID);

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", d => (body += d));
  req.on("end", async () => {
    const { event: input } = JSON.parse(body);
    const { event, items } = rawRows(appspaceId, nextId++, input);
    const conn = await pool.getConnection();
    try {
      await conn.beginTransaction();
      await conn.query(...multiRowInsert("events", EVENT_COLUMNS, [event]));
      await conn.query(...multiRowInsert("event_items", ITEM_COLUMNS, items));
      await conn.commit();
      res.setHeader("content-type", "application/json");
      res.end('{"ok":true}');
    } catch (err) {
      await conn.rollback();
      res.statusCode = 500;
      res.end(JSON.stringify({ error: String(err) }));
    } finally {
      conn.release();
    }
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening on ${(server.address() as { port: number }).port}`));
