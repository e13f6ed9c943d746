import { DataSource } from "typeorm";
import { Appspace } from "../appspaces/appspace.entity";
import { IdAllocator } from "../db/id-allocator";
import { withTransaction } from "../db/sql";
import { EventInput } from "./event.input";
import { writeEvents } from "./event-writer";
import { RatesCache } from "./rates/rates.service";
import { normalizeEvent, NormalizedEvent, Problem } from "./validate";

export interface IngestDeps {
  db: DataSource;
  eventIds: IdAllocator;
  rates: RatesCache;
  now: () => Date;
}

export interface IngestResult {
  /** Valid events: stored, or recognised as duplicates. */
  accepted: number;
  stored: number;
  problems: { index: number; problem: Problem }[];
}

/** Validates every event, then stores the valid ones in one transaction. */
export async function ingest(deps: IngestDeps, appspace: Appspace, inputs: EventInput[]): Promise<IngestResult> {
  const now = deps.now();
  await deps.rates.refresh(now.getTime());
  const valid: NormalizedEvent[] = [];
  const problems: IngestResult["problems"] = [];
  inputs.forEach((input, index) => {
    try {
      valid.push(normalizeEvent(input, appspace, deps.rates, now));
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      problems.push({ index, problem: err });
    }
  });
  if (valid.length === 0) return { accepted: 0, stored: 0, problems };

  const ids = await deps.eventIds.take(valid.length);
  const outcome = await withTransaction(deps.db, em => writeEvents(em, appspace.id, valid, ids, now));
  return { accepted: valid.length, stored: outcome.stored, problems };
}
