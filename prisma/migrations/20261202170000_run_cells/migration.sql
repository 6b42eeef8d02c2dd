-- Sweeps (issue 14): a run belongs to a cell (the values of the swept spec paths) as well as a
-- variant and a repeat, and may stop early.

-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "cellIndex" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "cell" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "stoppedEarly" BOOLEAN NOT NULL DEFAULT false;

-- DropIndex
DROP INDEX "runs_experimentId_variantIndex_repeat_key";

-- CreateIndex
CREATE UNIQUE INDEX "runs_experimentId_cellIndex_variantIndex_repeat_key" ON "runs"("experimentId", "cellIndex", "variantIndex", "repeat");
