import type { Command } from "commander";
import type { KubeConfig } from "@kubernetes/client-node";
import { openSluiceStore } from "../../app/createSluice.js";
import type { Actuator } from "../../autoscaler/actuator.js";
import { Autoscaler, policyFromConfig } from "../../autoscaler/autoscaler.js";
import { KubeDeploymentScaler } from "../../autoscaler/kubeDeploymentScaler.js";
import { LocalWorkerPool } from "../../autoscaler/localWorkerPool.js";
import type { SluiceConfig } from "../../config/config.js";
import { kubeConfigFrom } from "../../kube/client.js";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import { cliLogger, globals, resolveConfig, type GlobalOptions } from "../context.js";

/** The kubeconfig of the kubernetes section: in-cluster, a kubeconfig file, or server + token. */
function kubeConfigOf(config: SluiceConfig): Promise<KubeConfig> {
  return kubeConfigFrom(
    { ...config.kubernetes, namespace: config.autoscaler.namespace },
    () => new SluiceError(ErrorCode.ConfigInvalid, 'autoscaler.actuator "kubernetes" needs a way to reach the cluster: set kubernetes.inCluster, kubernetes.kubeconfigPath, or kubernetes.server with kubernetes.token.'),
  );
}


/** The same CLI, as `sluice worker` with the same config flags (so workers see the same database and DAGs). */
function workerCommand(g: GlobalOptions): [string, ...string[]] {
  const flags: string[] = [];
  if (g.config) flags.push("--config", g.config);
  if (g.dags) flags.push("--dags", g.dags);
  if (g.home) flags.push("--home", g.home);
  return [process.execPath, ...process.execArgv, process.argv[1], ...flags, "worker"];
}

async function runAutoscaler(cmd: Command): Promise<void> {
  const g = globals(cmd);
  const config = await resolveConfig(g);
  const a = config.autoscaler;
  if (!a.enabled) {
    throw new SluiceError(ErrorCode.ConfigInvalid, "The autoscaler is off: set autoscaler.enabled to true (SLUICE_AUTOSCALER__ENABLED=true) to let it start and stop workers.");
  }
  if (a.min > a.max) throw new SluiceError(ErrorCode.ConfigInvalid, `autoscaler.min (${a.min}) is above autoscaler.max (${a.max}); lower min or raise max.`);
  if (a.actuator === "local" && config.executor.kind !== "queue") {
    throw new SluiceError(ErrorCode.ConfigInvalid, 'The local autoscaler starts `sluice worker` processes, which serve executor.kind "queue": set executor.kind to "queue" (and db.url to PostgreSQL).');
  }
  const log = cliLogger(config, g);
  const store = await openSluiceStore(config, { migrate: false });
  const actuator: Actuator =
    a.actuator === "kubernetes"
      ? new KubeDeploymentScaler({ kubeConfig: await kubeConfigOf(config), namespace: a.namespace, deployment: a.deployment })
      : new LocalWorkerPool({ command: workerCommand(g), log: log.child({ part: "workers" }) });
  const autoscaler = new Autoscaler({ store, actuator, policy: policyFromConfig(config), queues: a.queues, intervalMs: a.intervalMs, log });
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info(`${signal}: autoscaler stopping${a.actuator === "local" ? "; its workers finish or hand back their attempts" : ""}`);
    void autoscaler
      .stop()
      .then(() => actuator.stop())
      .then(() => store.close())
      .then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, "error while stopping the autoscaler");
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  await autoscaler.start();
  log.info(`Sluice autoscaler: queues ${a.queues.join(", ")}, ${a.min}..${a.max} workers (${a.actuator}), every ${a.intervalMs} ms. Ctrl-C to stop.`);
  await new Promise(() => {});
}

export function registerAutoscaler(program: Command): void {
  program
    .command("autoscaler")
    .description("Scale queue workers from queue depth and their CPU/memory/I/O (local processes or a Kubernetes Deployment)")
    .addHelpText("after", "\nExample:\n  $ SLUICE_DB_URL=postgres://sluice:secret@db/sluice SLUICE_EXECUTOR__KIND=queue SLUICE_AUTOSCALER__ENABLED=true SLUICE_AUTOSCALER__MAX=8 sluice autoscaler")
    .action((_o: unknown, cmd: Command) => runAutoscaler(cmd));
}
