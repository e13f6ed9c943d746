import { dbTime } from "../db/sql";

/** What the benchmark sends: a PURCHASE in ten, else ADD_TO_CART, each with 3 items, from a logged-in person on a device. */
export interface BenchEvent {
  eventType: string;
  transactionId: string;
  revenue: number;
  userId: string;
  anonymousId: string;
  items: { itemId: string; price: number; quantity: number }[];
}

/**
 * Batch n of the load. A third of its events (i % 3 === 0) come from people never seen before, each on a device of
 * their own (a new identity link); the others from people of earlier batches on their devices (links already known).
 */
export function benchEvents(n: number, size = 100): BenchEvent[] {
  return Array.from({ length: size }, (_, i) => {
    const [batch, slot] = i % 3 === 0 || n === 0 ? [n, i] : [Math.max(0, n - 1 - ((i * 7) % 100)), (i * 3) % 99];
    return {
      eventType: i % 10 === 0 ? "PURCHASE" : "ADD_TO_CART",
      transactionId: `bench-${process.pid}-${n}-${i}`,
      revenue: 30,
      userId: `bench-user-${batch}-${slot}`,
      anonymousId: `bench-device-${batch}-${slot}`,
      items: [1, 2, 3].map(k => ({ itemId: `sku-${(n * 7 + i + k) % 2000}`, price: 10, quantity: 1 })),
    };
  });
}

/** The rows the server writes for one such event (EUR base, no context), built by hand for the raw baselines. */
export function rawRows(appspaceId: number, id: number, e: BenchEvent): { event: unknown[]; items: unknown[][] } {
  const now = dbTime(new Date());
  const revenue = Math.round(e.revenue * 100);
  const event = [
    id, appspaceId, null, e.eventType, now, now, e.transactionId, e.userId, e.anonymousId, null, null, null,
    revenue, null, null, null, "EUR", revenue, null, null, null, "1", null,
    null, null, null, null, null, null, null, null, null, null, null, null, null, null,
  ];
  const items = e.items.map((it, line) => [
    id, line, appspaceId, it.itemId, null, null, null, null, null, null, null, it.quantity, Math.round(it.price * 100), null, "EUR",
    Math.round(it.price * 100), null, "1", null, null, null,
  ]);
  return { event, items };
}
