import { EntityManager, MigrationInterface } from "typeorm";
import { DayEvent } from "../events/day-events";

/*
 * The contract between the rollup engine (marks, refresher) and the read models that reports own. A read model
 * keeps tables of per-day rows; the engine recomputes a stale day by handing it to every read model in turn, then
 * reads the day's events once for all of them, then lets each finish. A deletion and retention go through the same
 * list (src/read-models.ts), so no code outside a read model names its tables.
 */

/** A day being recomputed, in the refresher's transaction (READ COMMITTED on MySQL). */
export interface RefreshingDay {
  db: EntityManager;
  appspaceId: number;
  /** YYYY-MM-DD, UTC. */
  day: string;
  /** Numbers of people for sets (rollup_people), numbering those who have none; shared by the day's read models. */
  numberPeople(people: Iterable<string>): Promise<(person: string) => number>;
  /** Throws once the refresher is told to stop (the day's transaction rolls back): call between steps. */
  check(): void;
}

/** Takes in the day's events: the shared pass reads them a part of the people and cartIds at a time (Part). */
export interface EventCollector {
  /** A page of the part's events, in time order. */
  add(page: readonly DayEvent[]): void;
  /** The part is read whole: write what it gives. */
  endPart(): Promise<void>;
}

/** What a read model still has to do for a day once its refreshDay has started it. */
export interface DayWork {
  /** Fed by the shared pass over the day's events, for read models of what people did. */
  events?: EventCollector;
  /** After the pass: what needs the whole day (sets, totals, pairs of days). */
  finish?(): Promise<void>;
}

/** A second log of days a read model computes after the stale days are refreshed (attribution's credits). */
export interface FollowUp {
  /** The log table: (id, appspace_id, day), as rollup_dirty. */
  log: string;
  /** Takes the day's marks of `log` and computes it, in a transaction of its own. */
  refreshDay(db: EntityManager, appspaceId: number, day: string): Promise<void>;
}

export interface DayRollup {
  /** Names it in the logs ("attribution not computed"). */
  readonly name: string;
  /** The tables it owns: only it writes them (test/day-rollup.test.ts: every rollup table has one owner). */
  readonly tables: readonly string[];
  /**
   * Migrations of its tables that came with it (older rollups' tables are made by the migrations in src/db); the
   * data source runs them with the others, in timestamp order.
   */
  readonly migrations?: readonly (new () => MigrationInterface)[];
  /**
   * Starts recomputing its rows of `day` from raw events: reads what it needs of the old rows, deletes them, and
   * writes what SQL alone computes. Returns the rest of the work.
   */
  refreshDay(day: RefreshingDay): Promise<DayWork>;
  /**
   * Removes what it holds of these people (a deletion, whose days are marked stale) on these days; `days` null: on
   * every day, once the person's events are all gone.
   */
  forget(
    db: EntityManager,
    appspaceId: number,
    people: readonly string[],
    days: readonly string[] | null,
  ): Promise<void>;
  /** Drops its rows of days before `oldestDay` (retention; the purged days are marked stale too). */
  purgeBefore(db: EntityManager, appspaceId: number, oldestDay: string): Promise<void>;
  followUp?: FollowUp;
}

/** The engine's own tables: the stale-day marks (marks.ts) and the numbers of people in sets (people-sets.ts). */
export const ENGINE_TABLES = ["rollup_dirty", "rollup_people"] as const;
