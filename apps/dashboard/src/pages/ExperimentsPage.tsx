import {
  ACTIVATION_NAMES,
  EXPERIMENT_SORTS,
  LIMITS,
  type TExperimentSort,
  variantLabel,
} from "@actlab/contracts";
import { useEffect, useState } from "react";
import { type ListFilter, useExperiments } from "../api/hooks.js";
import { Empty, ErrorState, Loading, Progress, StatusBadge } from "../components/ui.js";
import { duration, elapsedBetween, pct, relativeTime } from "../lib/format.js";
import { listItemProgress, runCountsText } from "../lib/progress.js";
import { Link, useSearchParam } from "../lib/router.js";
import { EXPERIMENT_STATUSES } from "../lib/statuses.js";

/** The list's filters and order, kept in the URL so a filtered list can be bookmarked and shared. */
function useListFilter() {
  const [status, setStatus] = useSearchParam("status");
  const [q, setQ] = useSearchParam("q");
  const [activation, setActivation] = useSearchParam("activation");
  const [createdFrom, setCreatedFrom] = useSearchParam("from");
  const [createdTo, setCreatedTo] = useSearchParam("to");
  const [sort, setSort] = useSearchParam("sort");
  const filter: ListFilter = {
    status,
    q,
    activation,
    createdFrom,
    createdTo,
    sort: EXPERIMENT_SORTS.find((s) => s === sort) ?? null,
  };
  return { filter, setStatus, setQ, setActivation, setCreatedFrom, setCreatedTo, setSort };
}

const SORT_LABELS: Record<TExperimentSort, string> = {
  newest: "newest first",
  oldest: "oldest first",
  name: "name",
  accuracy: "best accuracy",
};

export function ExperimentsPage() {
  const { filter, setStatus, setQ, setActivation, setCreatedFrom, setCreatedTo, setSort } = useListFilter();
  const { status } = filter;
  const filtered = Boolean(
    filter.status || filter.q || filter.activation || filter.createdFrom || filter.createdTo,
  );
  const clear = () => {
    for (const set of [setStatus, setQ, setActivation, setCreatedFrom, setCreatedTo]) set(null);
  };
  // Typing in the search box asks the API once the user pauses, not on every key.
  const [search, setSearch] = useState(filter.q ?? "");
  const current = filter.q ?? "";
  // biome-ignore lint/correctness/useExhaustiveDependencies: setQ is a new function each render; only the text matters
  useEffect(() => {
    const next = search.trim();
    if (next === current) return;
    const t = setTimeout(() => setQ(next || null), 300);
    return () => clearTimeout(t);
  }, [search, current]);
  const q = useExperiments(filter);
  const items = q.data?.pages.flatMap((p) => p.items) ?? [];
  // Experiments ticked for the compare page, in the order they were ticked.
  const [picked, setPicked] = useState<string[]>([]);
  const pick = (id: string, on: boolean) =>
    setPicked((p) => (on ? [...p.filter((x) => x !== id), id] : p.filter((x) => x !== id)));

  return (
    <>
      <div className="page-head">
        <h1>Experiments</h1>
        <div className="page-actions">
          {picked.length ? (
            <Link
              to={`/compare?experiments=${picked.join(",")}`}
              className={picked.length >= 2 ? "btn" : "btn disabled"}
              aria-disabled={picked.length < 2}
              onClick={(e) => {
                if (picked.length < 2) e.preventDefault();
              }}
            >
              {picked.length >= 2 ? `Compare ${picked.length}` : "Tick another to compare"}
            </Link>
          ) : null}
          <Link to="/new" className="btn btn-primary">
            New experiment
          </Link>
        </div>
      </div>
      <div className="list-filters" data-testid="list-filters">
        <label className="inline-field">
          <span>Search</span>
          <input
            type="search"
            value={search}
            placeholder="name"
            maxLength={LIMITS.maxNameLength}
            onChange={(e) => setSearch(e.target.value)}
            aria-label="Search by name"
          />
        </label>
        <label className="inline-field">
          <span>Activation</span>
          <select
            value={filter.activation ?? ""}
            onChange={(e) => setActivation(e.target.value || null)}
            aria-label="Filter by activation"
          >
            <option value="">any</option>
            {ACTIVATION_NAMES.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          <span>From</span>
          <input
            type="date"
            value={filter.createdFrom ?? ""}
            onChange={(e) => setCreatedFrom(e.target.value || null)}
            aria-label="Created on or after"
          />
        </label>
        <label className="inline-field">
          <span>To</span>
          <input
            type="date"
            value={filter.createdTo ?? ""}
            onChange={(e) => setCreatedTo(e.target.value || null)}
            aria-label="Created on or before"
          />
        </label>
        <label className="inline-field">
          <span>Sort</span>
          <select
            value={filter.sort ?? "newest"}
            onChange={(e) => setSort(e.target.value === "newest" ? null : e.target.value)}
            aria-label="Sort"
          >
            {EXPERIMENT_SORTS.map((s) => (
              <option key={s} value={s}>
                {SORT_LABELS[s]}
              </option>
            ))}
          </select>
        </label>
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
      </div>

      {q.isPending ? (
        <Loading what="Loading experiments" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : items.length === 0 ? (
        filtered ? (
          <Empty title={status ? `No ${status} experiments match.` : "No experiments match."}>
            <button
              type="button"
              className="btn btn-small"
              onClick={() => {
                clear();
                setSearch("");
              }}
            >
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
                <input
                  type="checkbox"
                  className="exp-pick"
                  checked={picked.includes(e.id)}
                  onChange={(ev) => pick(e.id, ev.target.checked)}
                  aria-label={`compare ${e.name}`}
                  title="tick two or more to compare them"
                />
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
                    {e.best ? (
                      <span data-testid="best-variant">
                        best {variantLabel(e.best.variant)} {pct(e.best.testAccuracy, 1)}
                      </span>
                    ) : null}
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
