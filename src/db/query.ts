import { QueryRunner } from "typeorm";
import { Db } from "./sql";

/** A piece of SQL with its bound values, built by the `sql` tag so text and parameters never drift apart. */
export class Sql {
  constructor(
    readonly text: string,
    readonly params: readonly unknown[],
  ) {}
}

/**
 * `sql\`... ${value} ...\``: values become `?` placeholders; nested Sql pieces are spliced in with their own values.
 */
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
  return new Sql(
    parts.map(p => p.text).join(separator),
    parts.flatMap(p => p.params),
  );
}

/** Values bound as the list of an IN (...): `x IN (${inList(ids)})`. */
export const inList = (values: Iterable<unknown>): Sql => joinSql([...values].map(v => sql`${v}`));

/** Runs a statement and returns its raw rows (no entities). */
export function queryRows<T = Record<string, unknown>>(db: Db | QueryRunner, query: Sql): Promise<T[]> {
  return db.query(query.text, [...query.params]);
}

/**
 * Numbers (hashes, person numbers: computed by the server, never input) as the rows of a VALUES list, literals: a list
 * of any length binds no value (SQLite binds 32,766 at most).
 */
export const valueList = (numbers: Iterable<number>) => raw([...numbers].map(n => `(${n >>> 0})`).join(", "));
