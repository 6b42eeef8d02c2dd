import type { HTMLAttributes, ReactNode } from "react";

export interface Column<T> {
  /** The header's text, unique in its table (it keys the cells). */
  head: string;
  /** Classes of the header and of every cell (`num` right-aligns, `hide-sm` hides on phones). */
  className?: string;
  /** Extra classes of one row's cell. */
  cellClass?: (row: T) => string;
  /** Tooltip of the header. */
  title?: string;
  cell: (row: T, index: number) => ReactNode;
}

/** A table from a list of columns, scrolling sideways on narrow screens. */
export function Table<T>({
  columns,
  rows,
  rowKey,
  rowProps,
  className,
  testId,
}: {
  columns: Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  rowProps?: (row: T) => HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string>;
  className?: string;
  testId?: string;
}) {
  return (
    <div className="table-wrap">
      <table className={`table ${className ?? ""}`} data-testid={testId}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.head} className={c.className} title={c.title}>
                {c.head}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={rowKey(r)} {...rowProps?.(r)}>
              {columns.map((c) => (
                <td
                  key={c.head}
                  className={[c.className, c.cellClass?.(r)].filter(Boolean).join(" ") || undefined}
                >
                  {c.cell(r, i)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "mean ± std" with the spread muted; the spread is left out while either is unknown. */
export function MeanStd({
  mean,
  std,
  format,
}: {
  mean: number | null;
  std: number | null;
  format: (v: number | null) => string;
}) {
  return (
    <>
      {format(mean)}
      {std !== null && mean !== null ? <span className="muted"> ± {format(std)}</span> : null}
    </>
  );
}
