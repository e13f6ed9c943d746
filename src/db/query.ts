import { Db, isMysql } from "./sql";

/** A piece of SQL with its bound values, built by the `sql` tag so text and parameters never drift apart. */
export class Sql {
  constructor(readonly text: string, readonly params: readonly unknown[]) {}
}

/** `sql\`... ${value} ...\``: values become `?` placeholders; nested Sql pieces are spliced in with their own values. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  let text = strings[0];
  const params: unknown[] = [];
  values.forEach((value, i) => {
    if (value instanceof Sql) {
      text += value.text;
      params.push(...value.params);
    } else {
      text += "?";
      params.push(value);
    }
    text += strings[i + 1];
  });
  return new Sql(text, params);
}

/** Trusted SQL text (a column name from a fixed list), never user input. */
export function raw(text: string): Sql {
  return new Sql(text, []);
}

export function joinSql(parts: readonly Sql[], separator = ", "): Sql {
  return new Sql(parts.map(p => p.text).join(separator), parts.flatMap(p => p.params));
}

/** Runs a statement and returns its raw rows (no entities). */
export function queryRows<T = Record<string, unknown>>(db: Db, query: Sql): Promise<T[]> {
  return db.query(query.text, [...query.params]);
}

/** The UTC calendar day (YYYY-MM-DD) of a DATETIME column, as text on both databases. */
export function dayOf(db: Db, column: string): Sql {
  return raw(isMysql(db) ? `DATE_FORMAT(${column}, '%Y-%m-%d')` : `substr(${column}, 1, 10)`);
}

/** Seconds from one DATETIME column to another (fractional), on both databases. */
export function secondsBetween(db: Db, from: string, to: string): Sql {
  return raw(isMysql(db) ? `TIMESTAMPDIFF(MICROSECOND, ${from}, ${to}) / 1000000` : `(julianday(${to}) - julianday(${from})) * 86400`);
}

/**
 * Numbers (hashes, person numbers: computed by the server, never input) as the rows of a VALUES list, literals: a list
 * of any length binds no value (SQLite binds 32,766 at most).
 */
export const valueList = (numbers: Iterable<number>) => raw([...numbers].map(n => `(${n >>> 0})`).join(", "));
