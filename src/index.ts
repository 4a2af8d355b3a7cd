/**
 * The public authoring API: what DAG files import from "sluice".
 */
export { dag, Dag, DagBuilder } from "./sdk/dag.js";
export type { DagOptions, TaskOptions, TaskHandle, TaskInputs, FunctionTaskOptions, ShellTaskOptions, Duration, TaskFn } from "./sdk/dag.js";
export type { TaskContext, TaskLogger } from "./sdk/context.js";
export { Skip, Unrecoverable, SluiceError, ErrorCode } from "./core/errors.js";
export type { TriggerRule } from "./core/triggerRules.js";
export { TRIGGER_RULES } from "./core/triggerRules.js";
export { dataset, anyOf, allOf } from "./sdk/dataset.js";
export type { Dataset, DatasetLike, DatasetUris, DatasetSchedule, DatasetScheduleItem, DatasetAnyOf, DatasetAllOf } from "./sdk/dataset.js";
export type { DatasetOptions } from "./sdk/dag.js";
export { partition, readPartition, PartitionError, type PartitionDescriptor, type PartitionOptions, type CsvPartition, type JsonlPartition, type ReadPartitionOptions, type CsvRecord } from "./data/partition.js";
export { partitionTable, rangePredicate, DEFAULT_TARGET_TABLE_ROWS, type PartitionTableOptions, type RangePredicateOptions } from "./data/sqlRange.js";
export { pgClient, sqliteClient, duckdbClient, type SqlClient, type DuckdbSqlClient, type PgQueryable } from "./data/sqlClients.js";
export type { ParquetPartition, SqlRangePartition, SqlEngine, SqlKeyValue, FilePartition } from "./core/partitions.js";
export type { DuckdbSource, DuckdbTaskResult } from "./sdk/taskKinds.js";
