import { useExperiments } from "../api/hooks.js";
import { Empty, ErrorState, Loading, Progress, StatusBadge } from "../components/ui.js";
import { duration, elapsedBetween, relativeTime } from "../lib/format.js";
import { listItemProgress, runCountsText } from "../lib/progress.js";
import { Link, useSearchParam } from "../lib/router.js";
import { EXPERIMENT_STATUSES } from "../lib/statuses.js";

export function ExperimentsPage() {
  const [status, setStatus] = useSearchParam("status");
  const q = useExperiments(status);
  const items = q.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <>
      <div className="page-head">
        <h1>Experiments</h1>
        <div className="page-actions">
          <label className="inline-field">
            <span>Status</span>
            <select
              value={status ?? ""}
              onChange={(e) => setStatus(e.target.value || null)}
              aria-label="Filter by status"
            >
              <option value="">all</option>
              {EXPERIMENT_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <Link to="/new" className="btn btn-primary">
            New experiment
          </Link>
        </div>
      </div>

      {q.isPending ? (
        <Loading what="Loading experiments" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : items.length === 0 ? (
        status ? (
          <Empty title={`No ${status} experiments.`}>
            <button type="button" className="btn btn-small" onClick={() => setStatus(null)}>
              Show all
            </button>
          </Empty>
        ) : (
          <Empty title="No experiments yet.">
            Start with the chapter's comparison:{" "}
            <Link to="/new?preset=chapter8-keras">new experiment from the chapter 8 preset</Link>.
          </Empty>
        )
      ) : (
        <ul className="exp-list" aria-label="experiments">
          {items.map((e) => {
            const counts = runCountsText(e.runCounts);
            const took = elapsedBetween(e.startedAt ?? e.createdAt, e.finishedAt);
            return (
              <li key={e.id} className="exp-item" data-experiment-id={e.id}>
                <Link to={`/experiments/${e.id}`} className="exp-link">
                  <div className="exp-title">
                    <span className="exp-name">{e.name}</span>
                    <StatusBadge status={e.status} />
                  </div>
                  <Progress value={listItemProgress(e)} status={e.status} />
                  <div className="exp-meta muted">
                    <span title={new Date(e.createdAt).toLocaleString()}>
                      created {relativeTime(e.createdAt)}
                    </span>
                    {counts ? <span>{counts}</span> : null}
                    {e.finishedAt ? <span>took {duration(took)}</span> : null}
                  </div>
                </Link>
              </li>
            );
          })}
        </ul>
      )}
      {q.hasNextPage ? (
        <div className="load-more">
          <button
            type="button"
            className="btn"
            onClick={() => void q.fetchNextPage()}
            disabled={q.isFetchingNextPage}
          >
            {q.isFetchingNextPage ? "Loading…" : "Load older experiments"}
          </button>
        </div>
      ) : null}
      {q.isFetching && !q.isPending ? (
        <div className="refresh-dot" title="refreshing" aria-hidden="true" />
      ) : null}
    </>
  );
}
