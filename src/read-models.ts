import { DataSource } from "typeorm";
import { attributionRollup } from "./attribution/attribution.rollup";
import { cartsRollup } from "./reports/carts/carts.rollup";
import { channelsRollup } from "./reports/channels/reach";
import { cohortsRollup } from "./reports/cohorts/cohorts.rollup";
import { funnelRollup } from "./reports/funnel/funnel.rollup";
import { salesRollup } from "./reports/sales/sales.rollup";
import { DayRollup } from "./rollups/day-rollup";
import { RefreshOptions, refreshStaleDays } from "./rollups/refresher";

/**
 * Every report's read model, as schema.ts lists the resolvers: the refresher, the deletion worker and retention are
 * handed this list and know nothing else of the tables. A stale day is recomputed in this order; the channels' sets
 * number the day's people before the funnel's do, as the sales rows come before attribution's marks of later days.
 */
export const READ_MODELS: readonly DayRollup[] = [
  salesRollup,
  cohortsRollup,
  channelsRollup,
  funnelRollup,
  cartsRollup,
  attributionRollup,
];

/** Recomputes every stale day of every read model (the tests' and commands' way to settle the rollups). */
export const refreshRollups = (db: DataSource, opts?: RefreshOptions) => refreshStaleDays(db, READ_MODELS, opts);
