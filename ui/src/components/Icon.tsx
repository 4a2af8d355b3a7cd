/**
 * Inline SVG icons (no icon font, no network): 16px strokes in currentColor,
 * hidden from assistive tech; the button or link around them carries the label.
 */
import type { SVGProps } from "react";

const PATHS = {
  play: "M6 4l10 6-10 6V4z",
  pause: "M6 4h3v12H6zM11 4h3v12h-3z",
  search: "M8.5 3.5a5 5 0 100 10 5 5 0 000-10zM12.2 12.2L17 17",
  close: "M5 5l10 10M15 5L5 15",
  sun: "M10 6.5a3.5 3.5 0 100 7 3.5 3.5 0 000-7zM10 1.5v2M10 16.5v2M1.5 10h2M16.5 10h2M4 4l1.4 1.4M14.6 14.6L16 16M4 16l1.4-1.4M14.6 5.4L16 4",
  moon: "M16 12.5A7 7 0 017.5 4a7 7 0 108.5 8.5z",
  monitor: "M2.5 4h15v9.5h-15zM7 17h6M10 13.5V17",
  globe: "M10 2.5a7.5 7.5 0 100 15 7.5 7.5 0 000-15zM2.5 10h15M10 2.5c2 2 3 4.5 3 7.5s-1 5.5-3 7.5c-2-2-3-4.5-3-7.5s1-5.5 3-7.5z",
  clock: "M10 2.5a7.5 7.5 0 100 15 7.5 7.5 0 000-15zM10 6v4l2.5 2.5",
  user: "M10 10a3.5 3.5 0 100-7 3.5 3.5 0 000 7zM3.5 17.5c.8-3.2 3.4-5 6.5-5s5.7 1.8 6.5 5",
  alert: "M10 2.5l8 14H2l8-14zM10 8v3.5M10 13.6v.4",
  chevronDown: "M5 8l5 5 5-5",
  chevronRight: "M8 5l5 5-5 5",
  chevronLeft: "M12 5l-5 5 5 5",
  refresh: "M16 10a6 6 0 11-1.8-4.3M16 3.5v3.5h-3.5",
  download: "M10 3v10M6 9.5l4 4 4-4M4 16.5h12",
  copy: "M7 7h9v9H7zM4 13V4h9",
  trash: "M4 6h12M8 6V4h4v2M6 6l.8 10h6.4L14 6",
  edit: "M13.5 3.5l3 3L8 15H5v-3z",
  plus: "M10 4v12M4 10h12",
  check: "M4 10.5l4 4 8-9",
  x: "M5 5l10 10M15 5L5 15",
  grid: "M3 3h6v6H3zM11 3h6v6h-6zM3 11h6v6H3zM11 11h6v6h-6z",
  graph: "M5 5a2 2 0 100-.01M15 10a2 2 0 100-.01M5 15a2 2 0 100-.01M7 5.5l6 3.8M7 14.5l6-3.8",
  gantt: "M3 4h8M6 8h9M9 12h8M4 16h6",
  chart: "M3 17h14M5 14V9M9 14V5M13 14v-6M17 14V7",
  code: "M7 6l-4 4 4 4M13 6l4 4-4 4",
  info: "M10 2.5a7.5 7.5 0 100 15 7.5 7.5 0 000-15zM10 9v5M10 6.2v.4",
  database: "M4 5c0-1.4 2.7-2.5 6-2.5s6 1.1 6 2.5-2.7 2.5-6 2.5S4 6.4 4 5zM4 5v10c0 1.4 2.7 2.5 6 2.5s6-1.1 6-2.5V5M4 10c0 1.4 2.7 2.5 6 2.5s6-1.1 6-2.5",
  settings: "M10 7a3 3 0 100 6 3 3 0 000-6zM10 1.8v2.4M10 15.8v2.4M1.8 10h2.4M15.8 10h2.4M4.2 4.2l1.7 1.7M14.1 14.1l1.7 1.7M4.2 15.8l1.7-1.7M14.1 5.9l1.7-1.7",
  logout: "M8 4H4v12h4M12 6l4 4-4 4M16 10H8",
  external: "M11 3h6v6M17 3l-8 8M8 5H3v12h12v-5",
  arrowUp: "M10 16V4M5 9l5-5 5 5",
  arrowDown: "M10 4v12M5 11l5 5 5-5",
  filter: "M3 4h14l-5.5 6.5V16l-3 1.5v-7z",
  layers: "M10 2.5l7.5 4-7.5 4-7.5-4 7.5-4zM2.5 10.5l7.5 4 7.5-4M2.5 14l7.5 4 7.5-4",
  key: "M12.5 2.5a5 5 0 00-4.8 6.4L2.5 14.1V17.5h3.4v-2h2v-2h2l1.1-1.1a5 5 0 101.5-9.9zM14 5.5a1 1 0 110 2 1 1 0 010-2z",
  plug: "M7 2.5v4M13 2.5v4M5 6.5h10v3a5 5 0 01-10 0zM10 14.5v3",
  variable: "M6 3C4 6 4 14 6 17M14 3c2 3 2 11 0 14M8 7l4 6M12 7l-4 6",
  pool: "M3 6h14M3 10h14M3 14h14",
  eye: "M1.5 10S4.5 4 10 4s8.5 6 8.5 6-3 6-8.5 6-8.5-6-8.5-6zM10 7.5a2.5 2.5 0 100 5 2.5 2.5 0 000-5z",
  follow: "M10 3v11M5.5 9.5L10 14l4.5-4.5M4 17h12",
  wrap: "M3 5h14M3 10h11a2.5 2.5 0 010 5h-3M12.5 13.5L11 15l1.5 1.5M3 15h5",
  /** DuckDB tasks: a round head with a beak, after DuckDB's logo. */
  duck: "M8 4.5a5.5 5.5 0 100 11 5.5 5.5 0 000-11zM12.5 8.5h4a1.5 1.5 0 010 3h-4",
  /** Spark tasks: a four-pointed spark, after Apache Spark's logo. */
  spark: "M10 2l1.9 6.1L18 10l-6.1 1.9L10 18l-1.9-6.1L2 10l6.1-1.9z",
  /** Mapped tasks: stacked cards. */
  stack: "M6 3.5h11v9H6zM3.5 6v10.5H14",
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, size = 16, ...rest }: { name: IconName; size?: number } & SVGProps<SVGSVGElement>) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 20 20"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.6}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
      {...rest}
    >
      <path d={PATHS[name]} fill={name === "play" || name === "pause" ? "currentColor" : "none"} />
    </svg>
  );
}
