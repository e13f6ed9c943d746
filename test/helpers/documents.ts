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
