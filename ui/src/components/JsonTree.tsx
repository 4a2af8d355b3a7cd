/** A JSON value as a collapsible tree: objects and arrays fold, long arrays show their first items. */
import { useState } from "react";

const SHOW_ITEMS = 100;

function Leaf({ value }: { value: unknown }) {
  if (value === null) return <span className="jt-null">null</span>;
  switch (typeof value) {
    case "string":
      return <span className="jt-str">{JSON.stringify(value)}</span>;
    case "number":
      return <span className="jt-num">{String(value)}</span>;
    case "boolean":
      return <span className="jt-bool">{String(value)}</span>;
    default:
      return <span>{String(value)}</span>;
  }
}

function Node({ name, value, depth, openDepth }: { name?: string; value: unknown; depth: number; openDepth: number }) {
  const isArr = Array.isArray(value);
  const isObj = typeof value === "object" && value !== null;
  const [open, setOpen] = useState(depth < openDepth);
  const [limit, setLimit] = useState(SHOW_ITEMS);
  const label = name !== undefined ? <span className="jt-key">{name}: </span> : null;
  if (!isObj) {
    return (
      <div className="jt-row">
        {label}
        <Leaf value={value} />
      </div>
    );
  }
  const entries: [string, unknown][] = isArr ? (value as unknown[]).map((v, i) => [String(i), v]) : Object.entries(value as Record<string, unknown>);
  const summary = isArr ? `[${entries.length}]` : `{${entries.length}}`;
  return (
    <div className="jt-node">
      <button type="button" className="jt-toggle" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        <span className="jt-caret" aria-hidden="true">
          {open ? "▾" : "▸"}
        </span>
        {label}
        <span className="jt-summary">{summary}</span>
      </button>
      {open && (
        <div className="jt-children">
          {entries.slice(0, limit).map(([k, v]) => (
            <Node key={k} name={k} value={v} depth={depth + 1} openDepth={openDepth} />
          ))}
          {entries.length > limit && (
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => setLimit((l) => l + SHOW_ITEMS * 5)}>
              Show more ({entries.length - limit} left)
            </button>
          )}
        </div>
      )}
    </div>
  );
}

export function JsonTree({ value, openDepth = 2 }: { value: unknown; openDepth?: number }) {
  return (
    <div className="json-tree" role="group" aria-label="Result value">
      <Node value={value} depth={0} openDepth={openDepth} />
    </div>
  );
}
