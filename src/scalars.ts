import { GraphQLError, GraphQLScalarType, Kind, ValueNode } from "graphql";

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Epoch seconds below 1e11 (until year 5138), milliseconds above. */
function fromEpoch(n: number): Date {
  return new Date(Math.abs(n) < 1e11 ? n * 1000 : n);
}

export function parseDateTime(value: unknown): Date {
  let date: Date | null = null;
  if (typeof value === "number" && Number.isFinite(value)) date = fromEpoch(value);
  else if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) date = fromEpoch(Number(value));
  else if (typeof value === "string" && ISO_DATETIME.test(value.trim())) date = new Date(value.trim());
  if (!date || Number.isNaN(date.getTime())) {
    throw new GraphQLError(`DateTime must be an ISO-8601 timestamp with a time zone (2026-01-15T10:30:00Z) or a Unix epoch in seconds or milliseconds; got ${JSON.stringify(value)?.slice(0, 64)}`);
  }
  return date;
}

function literal(ast: ValueNode): unknown {
  if (ast.kind === Kind.STRING) return ast.value;
  if (ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return Number(ast.value);
  return undefined;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  description: "ISO-8601 timestamp. Output: UTC, e.g. 2026-01-15T10:30:00.000Z. Input also accepts a Unix epoch in seconds or milliseconds (number or numeric string).",
  serialize: value => (value instanceof Date ? value : parseDateTime(value)).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: ast => parseDateTime(literal(ast)),
});

/** Parses YYYY-MM-DD as a UTC calendar date, rejecting impossible days like 2026-02-30. */
export function parseDate(value: unknown): string {
  const m = typeof value === "string" ? DATE.exec(value) : null;
  const d = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])) : null;
  if (!m || !d || d.getUTCFullYear() !== +m[1] || d.getUTCMonth() !== +m[2] - 1 || d.getUTCDate() !== +m[3]) {
    throw new GraphQLError(`Date must be a calendar date YYYY-MM-DD; got ${JSON.stringify(value)?.slice(0, 32)}`);
  }
  return value as string;
}

export const DateScalar = new GraphQLScalarType<string, string>({
  name: "Date",
  description: "Calendar date, YYYY-MM-DD (UTC).",
  serialize: value => (value instanceof Date ? value.toISOString().slice(0, 10) : parseDate(value)),
  parseValue: parseDate,
  parseLiteral: ast => parseDate(literal(ast)),
});
