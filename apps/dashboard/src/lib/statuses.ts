import { ZExperimentStatus } from "@actlab/contracts";

export const EXPERIMENT_STATUSES = ZExperimentStatus.options;
