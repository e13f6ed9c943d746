import { registerEnumType } from "type-graphql";

export enum EventType {
  VIEW_ITEM = "VIEW_ITEM",
  ADD_TO_CART = "ADD_TO_CART",
  REMOVE_FROM_CART = "REMOVE_FROM_CART",
  ADD_TO_WISHLIST = "ADD_TO_WISHLIST",
  VIEW_CART = "VIEW_CART",
  ADD_PAYMENT_INFO = "ADD_PAYMENT_INFO",
  BEGIN_CHECKOUT = "BEGIN_CHECKOUT",
  PURCHASE = "PURCHASE",
  REFUND = "REFUND",
  CANCEL = "CANCEL",
  FULFILL = "FULFILL",
  SEARCH = "SEARCH",
  SHARE = "SHARE",
  RATE = "RATE",
  SPEND_CREDITS = "SPEND_CREDITS",
}

registerEnumType(EventType, {
  name: "EventType",
  valuesConfig: {
    CANCEL: {
      description:
        "An order cancelled before fulfilment: transactionId required; revenue optional (defaults to what is left of the order). Counts like a refund.",
    },
    FULFILL: {
      description:
        "An order (or part of it) shipped or handed over: transactionId required; items optional (the lines fulfilled, for a partial fulfilment). Counted by overview.fulfilledOrders and avgHoursToFulfil.",
    },
  },
});
