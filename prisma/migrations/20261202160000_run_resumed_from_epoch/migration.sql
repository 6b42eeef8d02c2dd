-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "resumedFromEpoch" INTEGER;
