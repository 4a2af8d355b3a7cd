/**
 * A task's kind as a small glyph and a word, the same wherever a kind is
 * shown (grid labels, graph nodes, the task panel). Kinds a newer server
 * sends that this UI does not know still show, by name.
 */
import { Icon } from "./Icon";

const LABELS: Record<string, string> = {
  function: "Function",
  shell: "Shell",
  duckdb: "DuckDB",
  spark: "Spark",
};

export function kindLabel(kind: string): string {
  return LABELS[kind] ?? kind;
}

/** The glyph in a small box; decorative (the label or a title says the kind). */
export function KindIcon({ kind }: { kind: string }) {
  const glyph =
    kind === "duckdb" ? <Icon name="duck" size={12} /> : kind === "spark" ? <Icon name="spark" size={12} /> : kind === "shell" ? "$" : kind === "function" ? "ƒ" : kind.slice(0, 1).toUpperCase();
  return (
    <span className={`kind kind-${kind}`} aria-hidden="true">
      {glyph}
    </span>
  );
}

/** Glyph and word, e.g. in the task panel's Task tab. */
export function TaskKind({ kind }: { kind: string }) {
  return (
    <span className="task-kind" data-kind={kind}>
      <KindIcon kind={kind} />
      {kindLabel(kind)}
    </span>
  );
}
