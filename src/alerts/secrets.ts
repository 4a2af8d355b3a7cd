/**
 * A notifier secret given directly in the config or by the name of an
 * environment variable. Read when a message is sent, from the environment the
 * process was handed (createSluice passes its own; tests pass theirs), so an
 * unset variable is a delivery error naming it, not a crashed scheduler.
 */
import { NotifierConfigError } from "./notifier.js";

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The secret's value; undefined when neither is set. `where` names the keys,
 * e.g. `alerts.notifiers.slack_ops.webhookUrl`.
 */
export function resolveSecret(value: string | undefined, envName: string | undefined, env: Env, where: string): string | undefined {
  if (value !== undefined) return value;
  if (envName === undefined) return undefined;
  const fromEnv = env[envName];
  if (fromEnv === undefined || fromEnv === "") {
    throw new NotifierConfigError(`${where}Env names the environment variable ${envName}, which is not set in this process: set it where the scheduler runs (e.g. from a Kubernetes Secret), or give ${where.split(".").pop()} directly.`);
  }
  return fromEnv;
}
