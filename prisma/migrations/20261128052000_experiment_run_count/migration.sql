-- AlterTable
ALTER TABLE "experiments" ADD COLUMN     "runCount" INTEGER;

-- Backfill: the runs an experiment was created with (runs are only ever inserted with it).
UPDATE "experiments" e SET "runCount" = (SELECT count(*)::int FROM "runs" r WHERE r."experimentId" = e."id");
