/**
 * Where an attempt's DAG file is: in the local DAG folder, or in its run's
 * commit of a git bundle (checked out on demand by ensureVersion, so every
 * process that runs tasks — task processes, workers, pods — reads the exact
 * commit the run was created on).
 */
import { join } from "node:path";
import { ErrorCode, SluiceError } from "../core/errors.js";
import { bundleSettings, ensureVersion, parseBundleFileloc, type BundleSettings } from "./checkout.js";

export interface CodeLocations {
  dagsFolder: string;
  /** Where bundle checkouts live (<home>/bundles) and which bundles are configured; absent: no bundles here. */
  bundles?: { home: string; list: BundleSettings[] };
}

export async function dagFilePath(loc: CodeLocations, fileloc: string, bundleVersion: string | null): Promise<string> {
  const inBundle = parseBundleFileloc(fileloc);
  if (!inBundle) return join(loc.dagsFolder, fileloc);
  if (!bundleVersion) throw new SluiceError(ErrorCode.StateConflict, `${fileloc} is in bundle "${inBundle.bundle}" but the run records no commit of it; clear the run with "rerun on latest" to pin it to the current commit.`);
  const b = bundleSettings(loc.bundles?.list ?? [], inBundle.bundle);
  const dir = await ensureVersion(loc.bundles!.home, b, bundleVersion);
  return join(dir, b.subdir, inBundle.path);
}
