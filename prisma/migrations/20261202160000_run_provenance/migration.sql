-- AlterTable: what trained the run (versions, backend, CPU, worker), written by the worker at start.
ALTER TABLE "runs" ADD COLUMN     "provenance" JSONB;
