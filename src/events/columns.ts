/** The columns ingest writes, in the order of its rows (the benchmark writes the same rows). */
export const EVENT_COLUMNS = [
  "id", "appspace_id", "event_id", "event_type", "occurred_at", "received_at", "transaction_id", "user_id", "anonymous_id",
  "session_id", "cart_id", "coupon_code", "revenue", "discount", "shipping", "tax", "currency", "original_revenue",
  "original_discount", "original_shipping", "original_tax", "fx_rate", "fx_rate_date", "campaign", "source", "medium",
  "device_type", "platform", "browser", "country", "city", "locale", "page_url", "referrer", "user_agent", "ip_anon", "flags",
];

export const ITEM_COLUMNS = [
  "event_row_id", "line", "appspace_id", "item_id", "item_name", "item_category", "item_brand", "item_variant", "item_group_id",
  "item_list_name", "item_list_id", "quantity", "price", "discount", "currency", "original_price", "original_discount", "fx_rate",
  "coupon_code", "merchant_id", "item_image_url",
];
