import { type RawBuilder, sql } from "kysely";

/*
 * Prisma keeps DateTime in `timestamp` (without time zone) columns holding UTC. node-postgres
 * would send a Date in the process's local time, so the queries here write and compare
 * timestamps as UTC ISO strings cast to `timestamp` (the cast ignores the "Z"); the pool reads
 * them back as UTC (see client.ts).
 */

/** Now, as a value for a timestamp column. */
export const utcNow = (): string => new Date().toISOString();

/** A Date as a timestamp expression, for comparisons. */
export const utcTimestamp = (date: Date): RawBuilder<Date> => sql<Date>`${date.toISOString()}::timestamp`;
