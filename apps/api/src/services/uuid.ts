const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids that are not UUIDs cannot exist; answering 404 keeps them from reaching Postgres' uuid cast. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
