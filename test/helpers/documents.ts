import type { Scope } from "../../src/appspaces/scopes";

export const TRACK_EVENT = /* GraphQL */ `
  mutation Track($event: EventInput!) { trackEvent(event: $event) { ok } }
`;

export const TRACK_EVENTS = /* GraphQL */ `
  mutation TrackBatch($events: [EventInput!]!) { trackEvents(events: $events) { ok accepted errors { index code message } } }
`;

export const OVERVIEW = /* GraphQL */ `
  query { overview { totalRevenue } }
`;

export const DELETE_USER = /* GraphQL */ `
  mutation Delete($userId: String!) { deleteUser(userId: $userId) { id status } }
`;

const REPORTS = [
  "overview", "revenueTimeseries", "funnel", "topProducts", "revenueBreakdown", "revenueByChannel", "revenueByCoupon", "revenueByDevice",
  "revenueByPlatform", "revenueByCountry", "cartAbandonment", "attribution", "cohorts", "ingestionStats",
];

/**
 * The scopes that open each operation (admin opens all), written out rather than read from the code: what the
 * isolation and bad-input matrices expect, and what test/isolation.test.ts holds every resolver's @NeedsScope to.
 */
export const OPENED_BY: Record<string, Scope[]> = {
  ...Object.fromEntries(REPORTS.map(name => [name, ["reports:read"]])),
  userJourney: ["people:read"], userDeletion: ["people:read", "people:delete"],
  trackEvent: ["ingest"], trackEvents: ["ingest"], deleteUser: ["people:delete"],
};
