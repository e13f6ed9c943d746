import { DataSource, QueryRunner } from "typeorm";
import { isMysql, toNumber } from "./sql";

/**
 * Runs `fn` on a connection of its own while holding a MySQL named lock (GET_LOCK, waiting up to `waitSeconds`),
 * so that one process at a time per database does the work; `busy` is returned when another holds it. Named
 * locks are server-wide: the name carries the database's. SQLite serves one process: no lock.
 */
export async function withNamedLock<T>(
  db: DataSource,
  name: string,
  waitSeconds: number,
  busy: T,
  fn: (runner: QueryRunner) => Promise<T>,
): Promise<T> {
  const runner = db.createQueryRunner();
  try {
    if (!isMysql(db)) return await fn(runner);
    const [got] = await runner.query("SELECT GET_LOCK(CONCAT(DATABASE(), ?), ?) AS ok", [`.${name}`, waitSeconds]);
    if (toNumber(got.ok) !== 1) return busy;
    try {
      return await fn(runner);
    } finally {
      await runner.query("SELECT RELEASE_LOCK(CONCAT(DATABASE(), ?))", [`.${name}`]);
    }
  } finally {
    await runner.release();
  }
}
