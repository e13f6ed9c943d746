/*
 * The fixture: a EUR appspace, the server's clock at 2026-03-10 20:00 UTC (so
 * "today" is 2026-03-10), rates 1 USD = 0.8 EUR = 150 JPY = 0.3 KWD.
 *
 * Purchases (base-currency values):
 *   P1 03-02 10:30 alice  o-1 100.00 EUR  lines sku-a 30x2, sku-b 40x1  SAVE10 -10.00  spring/newsletter/email  mobile ios DE
 *      (a resend of o-1 a minute later is a duplicate and not stored)
 *   P2 03-04 12:00 dave   o-2 60 USD = 48.00  line sku-c 30 USD (24.00) x2  cart-d  -/google/cpc  desktop web US
 *   P3 03-04 15:00 erin   o-3 1500 JPY = 8.00  line sku-b 1500 JPY (8.00) x1  SAVE10 -150 JPY (0.80)  no device JP
 *   P4 03-04 16:00 frank  o-4 3.000 KWD = 8.00  line sku-a 1.5 KWD (4.00) x2  iPhone user agent: mobile ios KW
 *   P5 03-05 09:00 gina   o-5 20.00 EUR  line sku-d 20x1  WELCOME -2.00  desktop web DE
 * Refunds: REFUND o-5 5.00 (03-06), CANCEL o-5 without revenue (03-07) = 20 - 5 = 15.00, REFUND o-1 10.00 (03-08).
 *
 * 03-01..03-10: revenue 100+48+8+8+20 = 184.00, 5 orders, AOV 36.80, units 3+2+1+2+1 = 9,
 *   refunds 3 for 5+15+10 = 30.00, net 154.00. Days: 03-02 100.00/1, 03-04 48+8+8 = 64.00/3, 03-05 20.00/1, others 0.
 *
 * Funnel (people; anon-a is linked to alice by her VIEW_CART, which carries both ids):
 *   alice: view, add (as anon-a), view_cart, checkout, payment, purchase -> all six steps
 *   bob: view (spring/newsletter/email), add -> 2;  carol: view -> 1
 *   dave: view (-/google/cpc), add (cart-d), view_cart, checkout, purchase without payment info -> 4
 *   harry: add, then view -> 1 (his add came before his view);  erin, frank, gina: purchases only -> 0
 *   view_item 5 (100), add_to_cart 3 (60.0), view_cart 2 (66.7), begin_checkout 2 (100.0), add_payment_info 1 (50.0), purchase 1 (100.0)
 *
 * Carts: alice's cartless run ends in P1 (completed); dave's cart-d ends in P2 (completed);
 *   bob's run: sku-a 30x1 + sku-b 40x2, minus one sku-b removed = 70.00 abandoned; harry's run: sku-e 12.50 abandoned;
 *   ivy's cart-i was emptied by a removal and is no cart. -> 2 abandoned (82.50), 2 completed, 50.0 %.
 *
 * Catalog names: sku-a "Alpha Tee", sku-b "Zebra Bag", sku-c "Apron", sku-d "Dress"; brands Acme (a, c; c only
 *   from dave's view), Bolt (b). Top products: sku-a 60+8 = 68.00 (4 units, 2 orders); then a tie at 48.00:
 *   sku-c "Apron" 48.00 (2, 1) before sku-b "Zebra Bag" 40+8 = 48.00 (2, 2), by name; then sku-d 20.00.
 *
 * Channels: spring/newsletter/email 100.00 (1 order; people alice, bob; buyers alice: 50.0),
 *   -/google/cpc 48.00 (1; dave: 100.0), no channel 36.00 (3; 9 people, 3 buyers: 33.3).
 */
export const NOW = new Date("2026-03-10T20:00:00Z");
const CHANNEL = [{ key: "campaign", value: "spring" }, { key: "source", value: "newsletter" }, { key: "medium", value: "email" }];
const GOOGLE = [{ key: "source", value: "google" }, { key: "medium", value: "cpc" }];
const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

export const at = (day: string, time: string) => `2026-03-${day}T${time}:00Z`;
export const range = (start: string, end: string) => ({ range: { start: `2026-${start}`, end: `2026-${end}` } });
export const item = (itemId: string, price?: number, quantity = 1, extra: Record<string, unknown> = {}) => ({ itemId, price, quantity, ...extra });

export const EVENTS = [
  // alice, first anonymous
  { eventType: "VIEW_ITEM", anonymousId: "anon-a", timestamp: at("02", "10:00"), items: [item("sku-a", 30, 1, { itemName: "Alpha Tee", itemBrand: "Acme" })] },
  { eventType: "ADD_TO_CART", anonymousId: "anon-a", timestamp: at("02", "10:05"), items: [item("sku-a", 30, 2), item("sku-b", 40)] },
  { eventType: "VIEW_CART", userId: "alice", anonymousId: "anon-a", timestamp: at("02", "10:10") },
  { eventType: "BEGIN_CHECKOUT", userId: "alice", timestamp: at("02", "10:15") },
  { eventType: "ADD_PAYMENT_INFO", userId: "alice", timestamp: at("02", "10:20") },
  {
    eventType: "PURCHASE", userId: "alice", transactionId: "o-1", revenue: 100, currency: "EUR", couponCode: "SAVE10", discount: 10,
    timestamp: at("02", "10:30"), properties: CHANNEL, context: { deviceType: "mobile", platform: "ios", country: "DE" },
    items: [item("sku-a", 30, 2), item("sku-b", 40, 1, { itemName: "Zebra Bag", itemBrand: "Bolt" })],
  },
  { eventType: "PURCHASE", userId: "alice", transactionId: "o-1", revenue: 100, currency: "EUR", timestamp: at("02", "10:31") },
  // bob and carol
  { eventType: "VIEW_ITEM", userId: "bob", timestamp: at("03", "09:00"), properties: CHANNEL, items: [item("sku-a", 30)] },
  { eventType: "ADD_TO_CART", userId: "bob", timestamp: at("03", "09:05"), items: [item("sku-a", 30), item("sku-b", 40, 2)] },
  { eventType: "REMOVE_FROM_CART", userId: "bob", timestamp: at("03", "09:06"), items: [item("sku-b", 40)] },
  { eventType: "VIEW_ITEM", userId: "carol", timestamp: at("03", "11:00"), items: [item("sku-b")] },
  // dave
  { eventType: "VIEW_ITEM", userId: "dave", timestamp: at("04", "11:00"), properties: GOOGLE, items: [item("sku-c", 24, 1, { itemName: "Apron", itemBrand: "Acme" })] },
  { eventType: "ADD_TO_CART", userId: "dave", cartId: "cart-d", timestamp: at("04", "11:10"), items: [item("sku-c", 24, 2)] },
  { eventType: "VIEW_CART", userId: "dave", cartId: "cart-d", timestamp: at("04", "11:20") },
  { eventType: "BEGIN_CHECKOUT", userId: "dave", cartId: "cart-d", timestamp: at("04", "11:30") },
  {
    eventType: "PURCHASE", userId: "dave", cartId: "cart-d", transactionId: "o-2", revenue: 60, currency: "USD", timestamp: at("04", "12:00"),
    properties: GOOGLE, context: { deviceType: "desktop", platform: "web", country: "US" }, items: [item("sku-c", 30, 2)],
  },
  // erin, frank: a multi-currency day
  {
    eventType: "PURCHASE", userId: "erin", transactionId: "o-3", revenue: 1500, currency: "JPY", couponCode: "SAVE10", discount: 150,
    timestamp: at("04", "15:00"), context: { country: "JP" }, items: [item("sku-b", 1500)],
  },
  {
    eventType: "PURCHASE", userId: "frank", transactionId: "o-4", revenue: 3, currency: "KWD", timestamp: at("04", "16:00"),
    context: { userAgent: IPHONE, country: "KW" }, items: [item("sku-a", 1.5, 2)],
  },
  // gina: bought, partly refunded, then cancelled
  {
    eventType: "PURCHASE", userId: "gina", transactionId: "o-5", revenue: 20, couponCode: "WELCOME", discount: 2, timestamp: at("05", "09:00"),
    context: { deviceType: "desktop", platform: "web", country: "DE" }, items: [item("sku-d", 20, 1, { itemName: "Dress" })],
  },
  { eventType: "REFUND", userId: "gina", transactionId: "o-5", revenue: 5, timestamp: at("06", "10:00") },
  { eventType: "CANCEL", userId: "gina", transactionId: "o-5", timestamp: at("07", "10:00") },
  { eventType: "REFUND", userId: "alice", transactionId: "o-1", revenue: 10, timestamp: at("08", "10:00") },
  // harry adds before he views; ivy empties her cart
  { eventType: "ADD_TO_CART", userId: "harry", timestamp: at("05", "10:00"), items: [item("sku-e", 12.5)] },
  { eventType: "VIEW_ITEM", userId: "harry", timestamp: at("05", "10:10"), items: [item("sku-e", 12.5)] },
  { eventType: "ADD_TO_CART", userId: "ivy", cartId: "cart-i", timestamp: at("06", "10:00"), items: [item("sku-a", 30)] },
  { eventType: "REMOVE_FROM_CART", userId: "ivy", cartId: "cart-i", timestamp: at("06", "10:05"), items: [item("sku-a", 30)] },
];

