/**
 * The pure parts of the Spark support: connection parsing and its errors,
 * the spark-submit command lines (standalone client, Kubernetes), the REST
 * create request, SparkApplication objects checked against the
 * spark-operator CRD schema, names and labels, and reading driver output.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRequest } from "../../src/spark/clusterMode.js";
import { DriverOutput, failureMessage } from "../../src/spark/driverOutput.js";
import { attemptName, labelValue } from "../../src/spark/kubeNames.js";
import { buildSparkApplication } from "../../src/spark/sparkApplication.js";
import { parseSparkConnection, SparkConnectionError, type KubernetesTarget, type SparkConnectionFields, type StandaloneTarget } from "../../src/spark/sparkConnection.js";
import type { SparkJob } from "../../src/spark/sparkJob.js";
import { kubeSubmitArgv, sparkSubmitPath, standaloneClientArgv } from "../../src/spark/submitArgs.js";
import { sparkApplicationValidator } from "../helpers/sparkCrd.js";

const conn = (o: Partial<SparkConnectionFields>): SparkConnectionFields => ({ connId: "spark_default", connType: "spark", host: null, port: null, login: null, password: null, extra: {}, ...o });
const attempt = { dagId: "nightly_features", runId: "manual__2026-03-01T12:00:00.000Z", taskId: "aggregate", mapIndex: -1, tryNumber: 2 };

function job(o: Partial<SparkJob> = {}): SparkJob {
  return {
    name: "nightly_features.aggregate",
    application: "/dags/jobs/agg.py",
    isPython: true,
    args: ["--day", "2026-03-01"],
    conf: { "spark.sql.shuffle.partitions": "8" },
    executorCores: 2,
    executorMemory: "2g",
    driverMemory: "1g",
    numExecutors: 3,
    pyFiles: [],
    attempt,
    ...o,
  };
}

function errorOf(fn: () => unknown): SparkConnectionError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SparkConnectionError, String(err));
    return err;
  }
  assert.fail("expected a SparkConnectionError");
}

describe("Spark connections", () => {
  it("reads a standalone master in every host form, with REST and UI URLs defaulting to the master's host", () => {
    for (const [host, port, master] of [
      ["spark://10.0.0.5", 7077, "spark://10.0.0.5:7077"],
      ["spark://10.0.0.5", null, "spark://10.0.0.5:7077"],
      ["spark://10.0.0.5:7177", 9999, "spark://10.0.0.5:7177"],
      ["spark-master", 17077, "spark://spark-master:17077"],
    ] as const) {
      const t = parseSparkConnection(conn({ host, port })) as StandaloneTarget;
      assert.equal(t.kind, "standalone");
      assert.equal(t.master, master);
      assert.equal(t.deployMode, "client");
      assert.equal(t.restUrl, `http://${master.slice(8).split(":")[0]}:6066`);
      assert.equal(t.webUiUrl, `http://${master.slice(8).split(":")[0]}:8080`);
    }
    const t = parseSparkConnection(
      conn({ host: "spark://m", password: "tok", extra: { deployMode: "cluster", restUrl: "http://m:16066/", webUiUrl: "http://ui:18080", sparkHome: "/opt/spark", pythonPath: "/venv/bin/python" } }),
    ) as StandaloneTarget;
    assert.deepEqual(
      { deployMode: t.deployMode, restUrl: t.restUrl, webUiUrl: t.webUiUrl, sparkHome: t.sparkHome, pythonPath: t.pythonPath, token: t.token },
      { deployMode: "cluster", restUrl: "http://m:16066", webUiUrl: "http://ui:18080", sparkHome: "/opt/spark", pythonPath: "/venv/bin/python", token: "tok" },
    );
  });

  it("reads Kubernetes: the API server from the k8s:// master, operator mode by default, the password as bearer token", () => {
    const t = parseSparkConnection(conn({ host: "k8s://https://api.example:6443", password: "sa-token", extra: { kubernetes: { namespace: "jobs", image: "spark:4.0.1" } } })) as KubernetesTarget;
    assert.equal(t.kind, "kubernetes");
    assert.equal(t.master, "k8s://https://api.example:6443");
    assert.equal(t.apiServer, "https://api.example:6443");
    assert.equal(t.deployMode, "cluster");
    assert.equal(t.token, "sa-token");
    assert.equal(t.kubernetes.mode, "operator");
    assert.equal(t.kubernetes.namespace, "jobs");
    const viaProxy = parseSparkConnection(conn({ host: "k8s://api.example", port: 443, extra: { kubernetes: { mode: "submit", apiServer: "http://127.0.0.1:8001" } } })) as KubernetesTarget;
    assert.equal(viaProxy.master, "k8s://https://api.example");
    assert.equal(viaProxy.apiServer, "http://127.0.0.1:8001");
    assert.equal(viaProxy.kubernetes.mode, "submit");
  });

  it("names the field to fix when the connection is wrong", () => {
    assert.match(errorOf(() => parseSparkConnection(conn({ connType: "postgres", host: "spark://m" }))).message, /Spark connection "spark_default": its type is "postgres", not "spark"/);
    assert.match(errorOf(() => parseSparkConnection(conn({ host: "" }))).message, /host is empty: set it to the master, e\.g\. "spark:\/\/10\.0\.0\.5"/);
    assert.match(errorOf(() => parseSparkConnection(conn({ host: "spark://m/x" }))).message, /is not a standalone master; write it as spark:\/\/<host>/);
    assert.match(errorOf(() => parseSparkConnection(conn({ host: "spark://m", extra: { restURL: "http://m:6066" } }))).message, /extra: Unrecognized key: "restURL".*keys: deployMode, restUrl/);
    assert.match(errorOf(() => parseSparkConnection(conn({ host: "spark://m", extra: { deployMode: "yarn" } }))).message, /extra\.deployMode: Invalid option: expected one of "client"\|"cluster"/);
    assert.match(errorOf(() => parseSparkConnection(conn({ host: "spark://m", extra: { webUiUrl: "m:8080" } }))).message, /extra\.webUiUrl: Invalid URL/);
    assert.match(errorOf(() => parseSparkConnection(conn({ host: "k8s://https://api", extra: { kubernetes: { mode: "helm" } } }))).message, /extra\.kubernetes\.mode: Invalid option/);
    assert.match(errorOf(() => parseSparkConnection(conn({ host: "spark://m", extra: { kubernetes: {} } }))).message, /extra\.kubernetes is set but the host "spark:\/\/m" is a standalone master/);
  });
});

describe("spark-submit command lines", () => {
  const standalone = parseSparkConnection(conn({ host: "spark://m", extra: { sparkHome: "/opt/spark", pythonPath: "/venv/bin/python" } })) as StandaloneTarget;

  it("standalone client mode: master, deploy mode, name, every setting as --conf (cores capped for standalone), then the app and its args", () => {
    assert.equal(sparkSubmitPath(standalone, {}), "/opt/spark/bin/spark-submit");
    assert.equal(sparkSubmitPath({}, { SPARK_HOME: "/srv/spark" }), "/srv/spark/bin/spark-submit");
    assert.equal(sparkSubmitPath({}, {}), "spark-submit");
    assert.deepEqual(standaloneClientArgv(job({ pyFiles: ["/dags/lib/a.py", "/dags/lib/b.zip"] }), standalone), [
      "--master", "spark://m:7077",
      "--deploy-mode", "client",
      "--name", "nightly_features.aggregate",
      "--py-files", "/dags/lib/a.py,/dags/lib/b.zip",
      "--conf", "spark.cores.max=6",
      "--conf", "spark.driver.memory=1g",
      "--conf", "spark.executor.cores=2",
      "--conf", "spark.executor.instances=3",
      "--conf", "spark.executor.memory=2g",
      "--conf", "spark.pyspark.python=/venv/bin/python",
      "--conf", "spark.sql.shuffle.partitions=8",
      "/dags/jobs/agg.py", "--day", "2026-03-01",
    ]);
    const jar = standaloneClientArgv(job({ application: "/dags/etl.jar", isPython: false, mainClass: "com.acme.Etl", args: [], conf: {}, numExecutors: undefined, executorCores: undefined, executorMemory: undefined, driverMemory: undefined }), standalone);
    assert.deepEqual(jar, ["--master", "spark://m:7077", "--deploy-mode", "client", "--name", "nightly_features.aggregate", "--class", "com.acme.Etl", "--conf", "spark.pyspark.python=/venv/bin/python", "/dags/etl.jar"]);
  });

  it("Kubernetes cluster mode: k8s:// master, image, namespace, driver pod name, token and CA as files, attempt labels on driver and executors", () => {
    const k8s = parseSparkConnection(conn({ host: "k8s://https://api:6443", password: "tok", extra: { kubernetes: { mode: "submit", namespace: "jobs", image: "spark:4.0.1", serviceAccount: "spark" } } })) as KubernetesTarget;
    const name = attemptName(attempt);
    const argv = kubeSubmitArgv(job({ application: "local:///opt/app/agg.py", numExecutors: undefined }), k8s, name, { tokenFile: "/tmp/x/k8s-token", caCertFile: "/tmp/x/ca.crt" });
    const confs = argv.flatMap((a, i) => (argv[i - 1] === "--conf" ? [a] : []));
    assert.deepEqual(argv.slice(0, 6), ["--master", "k8s://https://api:6443", "--deploy-mode", "cluster", "--name", "nightly_features.aggregate"]);
    assert.deepEqual(argv.slice(-3), ["local:///opt/app/agg.py", "--day", "2026-03-01"]);
    for (const c of [
      "spark.kubernetes.namespace=jobs",
      "spark.kubernetes.container.image=spark:4.0.1",
      `spark.kubernetes.driver.pod.name=${name}-driver`,
      "spark.kubernetes.submission.waitAppCompletion=true",
      "spark.kubernetes.authenticate.driver.serviceAccountName=spark",
      "spark.kubernetes.authenticate.submission.oauthTokenFile=/tmp/x/k8s-token",
      "spark.kubernetes.authenticate.submission.caCertFile=/tmp/x/ca.crt",
      "spark.executor.cores=2",
      "spark.executor.memory=2g",
      "spark.driver.memory=1g",
      "spark.kubernetes.driver.label.sluice.io/dag-id=nightly_features",
      "spark.kubernetes.executor.label.sluice.io/run-id=manual__2026-03-01T12_00_00.000Z",
      "spark.kubernetes.driver.label.sluice.io/try-number=2",
      "spark.kubernetes.executor.label.sluice.io/map-index=-1",
      "spark.kubernetes.driver.annotation.sluice.io/run-id=manual__2026-03-01T12:00:00.000Z",
    ]) assert.ok(confs.includes(c), `${c} in ${JSON.stringify(confs)}`);
    assert.ok(!argv.some((a) => a.includes("tok") && !a.includes("k8s-token")), "the token itself is not on the command line");
    assert.ok(!confs.some((c) => c.startsWith("spark.cores.max")), "no standalone core cap on Kubernetes");
    const noImage = parseSparkConnection(conn({ host: "k8s://https://api" })) as KubernetesTarget;
    assert.throws(() => kubeSubmitArgv(job({ application: "local:///a.py" }), noImage, name), /needs a container image: set extra\.kubernetes\.image/);
  });

  it("standalone cluster mode: PySpark goes through SparkSubmit with the .py first and MASTER in the driver's environment", () => {
    const t = parseSparkConnection(conn({ host: "spark://m", extra: { pythonPath: "/venv/bin/python" } })) as StandaloneTarget;
    const py = createRequest(job(), t);
    assert.equal(py.mainClass, "org.apache.spark.deploy.SparkSubmit");
    assert.equal(py.appResource, "file:/dags/jobs/agg.py");
    assert.deepEqual(py.appArgs, ["/dags/jobs/agg.py", "--day", "2026-03-01"]);
    assert.deepEqual(py.environmentVariables, { SPARK_ENV_LOADED: "1", PYSPARK_PYTHON: "/venv/bin/python", MASTER: "spark://m:7077" });
    assert.equal(py.sparkProperties["spark.master"], "spark://m:7077");
    assert.equal(py.sparkProperties["spark.cores.max"], "6");
    assert.equal(py.sparkProperties["spark.submit.deployMode"], undefined, "the driver's SparkSubmit must not submit again");
    const jar = createRequest(job({ application: "hdfs://nn/etl.jar", isPython: false, mainClass: "com.acme.Etl" }), t);
    assert.equal(jar.mainClass, "com.acme.Etl");
    assert.equal(jar.appResource, "hdfs://nn/etl.jar");
    assert.deepEqual(jar.appArgs, ["--day", "2026-03-01"]);
    assert.equal(jar.sparkProperties["spark.submit.deployMode"], "cluster");
    assert.equal(jar.sparkProperties["spark.jars"], "hdfs://nn/etl.jar");
  });
});

describe("SparkApplication objects (spark-operator CRD v1beta2)", () => {
  const validate = sparkApplicationValidator();
  const k8s = parseSparkConnection(conn({ host: "k8s://https://api", extra: { kubernetes: { namespace: "jobs", image: "spark:4.0.1", serviceAccount: "spark", imagePullPolicy: "IfNotPresent" } } })) as KubernetesTarget;
  const name = attemptName(attempt);

  it("a PySpark job and a JAR job are valid against the CRD schema", () => {
    const py = buildSparkApplication(job({ application: "local:///opt/app/agg.py", pyFiles: ["s3a://lake/lib.zip"], kubernetes: { labels: { team: "ml" } } }), k8s, name);
    assert.deepEqual(validate(py), []);
    assert.equal(py.metadata.name, name);
    assert.equal(py.metadata.namespace, "jobs");
    assert.deepEqual(py.spec.restartPolicy, { type: "Never" });
    assert.equal(py.spec.type, "Python");
    assert.equal(py.spec.mainApplicationFile, "local:///opt/app/agg.py");
    assert.deepEqual(py.spec.deps, { pyFiles: ["s3a://lake/lib.zip"] });
    assert.deepEqual(py.spec.executor, { instances: 3, cores: 2, memory: "2g", labels: { ...py.metadata.labels, team: "ml" } });
    assert.equal((py.spec.driver as any).serviceAccount, "spark");
    assert.equal(py.metadata.labels["sluice.io/task-id"], "aggregate");
    assert.equal(py.metadata.annotations["sluice.io/run-id"], attempt.runId);
    assert.deepEqual(py.spec.sparkConf, { "spark.sql.shuffle.partitions": "8" });
    const jar = buildSparkApplication(job({ application: "s3a://lake/etl.jar", isPython: false, mainClass: "com.acme.Etl", numExecutors: undefined, executorCores: undefined, kubernetes: { image: "acme/etl:7", namespace: "etl" } }), k8s, name);
    assert.deepEqual(validate(jar), []);
    assert.equal(jar.spec.type, "Java");
    assert.equal(jar.spec.mainClass, "com.acme.Etl");
    assert.equal(jar.spec.image, "acme/etl:7");
    assert.equal(jar.metadata.namespace, "etl");
  });

  it("the validator rejects what the API server would: wrong enums, numbers below the minimum, unknown fields, missing required fields", () => {
    const ok = buildSparkApplication(job({ application: "local:///a.py" }), k8s, name);
    const broken = structuredClone(ok) as any;
    broken.spec.type = "Pyhton";
    broken.spec.executor.cores = 0;
    broken.spec.executorr = {};
    delete broken.spec.sparkVersion;
    const problems = validate(broken);
    assert.ok(problems.some((p) => p.startsWith("spec.type: must be equal to one of the allowed values")), problems.join("\n"));
    assert.ok(problems.some((p) => p === "spec.executor.cores: must be >= 1"), problems.join("\n"));
    assert.ok(problems.some((p) => p === "spec: must NOT have additional properties (executorr)"), problems.join("\n"));
    assert.ok(problems.some((p) => p === "spec: must have required property 'sparkVersion'"), problems.join("\n"));
  });

  it("a local path is refused on Kubernetes with the fix named", () => {
    assert.throws(() => buildSparkApplication(job({ application: "/dags/jobs/agg.py" }), k8s, name), /pods on Kubernetes cannot read\. Give a URI the cluster can read: local:\/\/\//);
  });

  it("names fit Kubernetes' limits and are unique per attempt; label values are valid", () => {
    const long = { ...attempt, dagId: "A".repeat(200), taskId: "Task With Spaces_and.dots" };
    const n = attemptName(long);
    assert.match(n, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    assert.ok(`${n}-driver`.length <= 63, n);
    assert.notEqual(attemptName({ ...attempt, tryNumber: 3 }), attemptName(attempt));
    assert.notEqual(attemptName({ ...attempt, mapIndex: 4 }), attemptName(attempt));
    assert.equal(labelValue("manual__2026-03-01T12:00:00.000Z"), "manual__2026-03-01T12_00_00.000Z");
    assert.equal(labelValue("__x:"), "x");
    assert.ok(labelValue("a".repeat(100)).length <= 63);
  });
});

describe("driver output", () => {
  it("finds the application id across chunk boundaries and keeps the Python traceback for the error message", () => {
    const ids: string[] = [];
    const out = new DriverOutput((id) => ids.push(id));
    out.push("stderr", "26/03/01 12:00:00 INFO StandaloneSchedulerBackend: Connected to Spark cluster with app I");
    out.push("stderr", "D app-20260301120000-0007\n26/03/01 12:00:01 INFO SparkContext: Running Spark version 4.0.1\n");
    out.push("stderr", "Traceback (most recent call last):\n  File \"/dags/jobs/agg.py\", line 3, in <module>\n    raise ValueError(\"bad\")\nValueError: bad\n");
    out.push("stderr", "26/03/01 12:00:02 INFO ShutdownHookManager: Shutdown hook called\n");
    out.end();
    assert.deepEqual(ids, ["app-20260301120000-0007"]);
    assert.equal(out.appId, "app-20260301120000-0007");
    assert.equal(out.errorLines(), 'Traceback (most recent call last):\n  File "/dags/jobs/agg.py", line 3, in <module>\n    raise ValueError("bad")\nValueError: bad');
    assert.match(failureMessage("spark-submit exited with code 1.", out), /^spark-submit exited with code 1\.\nLast lines of the driver's output:\nTraceback/);
    const jvm = new DriverOutput();
    jvm.push("stderr", "INFO a\n26/03/01 ERROR SparkContext: Error initializing SparkContext.\njava.lang.IllegalArgumentException: System memory 100 must be at least 471859200\nINFO b\n");
    jvm.end();
    assert.equal(jvm.errorLines(), "26/03/01 ERROR SparkContext: Error initializing SparkContext.\njava.lang.IllegalArgumentException: System memory 100 must be at least 471859200");
  });
});
