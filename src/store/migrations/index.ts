import { m0001_init } from "./0001_init.js";
import { m0002_auth } from "./0002_auth.js";
import { m0003_ui } from "./0003_ui.js";
import { m0004_data } from "./0004_data.js";
import { m0005_autoscaler } from "./0005_autoscaler.js";
import { m0006_alerts } from "./0006_alerts.js";
import { m0007_bundles } from "./0007_bundles.js";
import type { Migration } from "./migration.js";

export type { Dialect, Migration } from "./migration.js";

export const MIGRATIONS: readonly Migration[] = [m0001_init, m0002_auth, m0003_ui, m0004_data, m0005_autoscaler, m0006_alerts, m0007_bundles];
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
