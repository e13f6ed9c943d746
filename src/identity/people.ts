import { raw, Sql, sql } from "../db/query";

/**
 * How reports tell people apart: an event belongs to its userId, or to its
 * anonymousId when it has none, and an identifier linked to a userId (an
 * anonymousId or alias) belongs to that userId. `join` goes after `FROM events e`;
 * `person` is then the person's key (null for an event with neither id).
 */
export function personOf(appspaceId: number, e = "e"): { join: Sql; person: Sql } {
  return {
    // An identifier linked to several userIds (a shared device) goes to the first, so the answer is stable.
    join: sql` LEFT JOIN (SELECT identifier, MIN(user_id) AS user_id FROM identity_links WHERE appspace_id = ${appspaceId} GROUP BY identifier) li
      ON li.identifier = COALESCE(${raw(`${e}.user_id`)}, ${raw(`${e}.anonymous_id`)})`,
    person: raw(`COALESCE(li.user_id, ${e}.user_id, ${e}.anonymous_id)`),
  };
}
