import { queryRows, raw, sql } from "../db/query";
import { Db } from "../db/sql";

/*
 * The statements every read model runs on its tables keyed by (appspace_id, day, ...): a day's rows replaced, the
 * days before retention's oldest dropped, and for a pairs table (keyed by with_flagged, day_from, day_to) the pairs
 * that start before it. Table names come from the read models' own lists, never from input.
 */

export async function deleteDayRows(db: Db, appspaceId: number, day: string, tables: readonly string[]): Promise<void> {
  for (const table of tables)
    await queryRows(db, sql`DELETE FROM ${raw(table)} WHERE appspace_id = ${appspaceId} AND day = ${day}`);
}

export async function deleteRowsBefore(
  db: Db,
  appspaceId: number,
  oldestDay: string,
  tables: readonly string[],
): Promise<void> {
  for (const table of tables) {
    await queryRows(db, sql`DELETE FROM ${raw(table)} WHERE appspace_id = ${appspaceId} AND day < ${oldestDay}`);
  }
}

/** Both variants named: the key starts (appspace_id, with_flagged, day_from). */
export async function deletePairsBefore(db: Db, appspaceId: number, oldestDay: string, table: string): Promise<void> {
  await queryRows(
    db,
    sql`DELETE FROM ${raw(table)}
    WHERE appspace_id = ${appspaceId} AND with_flagged IN (0, 1) AND day_from < ${oldestDay}`,
  );
}
