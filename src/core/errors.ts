/**
 * Typed errors with stable codes. Every error Sluice raises on purpose is a
 * SluiceError with a code from ErrorCode; anything else that is caught is
 * normalised with coerceError() and wrapped with `{ cause }`.
 */
export const ErrorCode = {
  ConfigInvalid: "CONFIG_INVALID",
  DagInvalid: "DAG_INVALID",
  DagCycle: "DAG_CYCLE",
  DagUnknownTask: "DAG_UNKNOWN_TASK",
  DagDuplicate: "DAG_DUPLICATE",
  DagImport: "DAG_IMPORT",
  DagNotFound: "DAG_NOT_FOUND",
  RunNotFound: "RUN_NOT_FOUND",
  TaskNotFound: "TASK_NOT_FOUND",
  ScheduleInvalid: "SCHEDULE_INVALID",
  ParamsInvalid: "PARAMS_INVALID",
  ResultTooLarge: "RESULT_TOO_LARGE",
  ResultNotJson: "RESULT_NOT_JSON",
  TaskTimeout: "TASK_TIMEOUT",
  TaskFailed: "TASK_FAILED",
  SchemaTooNew: "SCHEMA_TOO_NEW",
  SchemaOutdated: "SCHEMA_OUTDATED",
  MigrationFailed: "MIGRATION_FAILED",
  RunExists: "RUN_EXISTS",
  StateConflict: "STATE_CONFLICT",
  Usage: "USAGE",
  GitFailed: "GIT_FAILED",
  BundleNotFound: "BUNDLE_NOT_FOUND",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Process exit codes the CLI uses; SchemaTooNew has its own so deploy scripts can tell it apart. */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  SchemaTooNew: 3,
} as const;

export interface ErrorLocation {
  file: string;
  line?: number;
  column?: number;
}

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly location?: ErrorLocation;
  /** Structured detail for machines (API bodies, --json output). */
  readonly details?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { cause?: unknown; location?: ErrorLocation; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "SluiceError";
    this.code = code;
    this.location = opts.location;
    this.details = opts.details;
  }
}

/** Thrown when the database was migrated by a newer Sluice than this one. */
export class SchemaTooNewError extends SluiceError {
  constructor(dbVersion: number, codeVersion: number) {
    super(
      ErrorCode.SchemaTooNew,
      `The database schema is at version ${dbVersion}, but this Sluice only understands up to ${codeVersion}. ` +
        `Upgrade Sluice (every process sharing this database must run the same or a newer version), or point it at another database.`,
      { details: { dbVersion, codeVersion } },
    );
    this.name = "SchemaTooNewError";
  }
}

// Control-flow errors a task may throw on purpose.

/** Fail this attempt without retrying, whatever the retry policy says. */
export class Unrecoverable extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = "Unrecoverable";
  }
}

/** Mark the task skipped (its downstream then follows its trigger rules). */
export class Skip extends Error {
  constructor(message = "skipped by the task") {
    super(message);
    this.name = "Skip";
  }
}

/** Turn anything thrown into an Error, keeping the original as cause. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === "string") return new Error(value);
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return new Error(`Non-error value thrown: ${text}`, { cause: value });
}

/** One-line-per-cause rendering used in logs and CLI output. */
export function describeError(err: unknown): string {
  const e = coerceError(err);
  let text = e.message;
  let cause = (e as { cause?: unknown }).cause;
  let depth = 0;
  while (cause instanceof Error && depth < 5) {
    text += `\n  caused by: ${cause.message}`;
    cause = (cause as { cause?: unknown }).cause;
    depth++;
  }
  return text;
}
