/**
 * A stand-in for a Spark standalone master's web UI, for the browser tests of
 * the Spark page: a loopback HTTP server answering `/json/` with what Spark
 * 4's master answers there (the fields src/spark/masterStatus.ts parses, and
 * the ones it ignores: coresfree, resources, submitdate, a driver's start
 * time as a string). The state is the test's to change between refreshes;
 * stop() and start() take the master away and bring it back on the same port.
 * The real master is exercised by test/spark/standalone.test.ts.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeWorker {
  id: string;
  port: number;
  cores: number;
  coresUsed: number;
  memoryMb: number;
  memoryUsedMb: number;
  state: "ALIVE" | "DEAD" | "DECOMMISSIONED" | "UNKNOWN";
  lastHeartbeat: number;
}

export interface FakeApp {
  id: string;
  name: string;
  cores: number;
  memoryPerExecutorMb: number;
  user: string;
  startTime: number;
  state: string;
  durationMs: number;
}

export interface FakeDriver {
  id: string;
  state: string;
  cores: number;
  memoryMb: number;
  startTime: number;
  worker: string;
  mainClass: string;
}

export interface FakeMasterState {
  status: string;
  workers: FakeWorker[];
  activeApps: FakeApp[];
  completedApps: FakeApp[];
  activeDrivers: FakeDriver[];
  completedDrivers: FakeDriver[];
}

const submitDate = (t: number) => new Date(t).toUTCString().replace("GMT", "UTC");

/** The body of GET /json/ for this state, shaped as Spark's JsonProtocol.writeMasterState writes it. */
export function masterJson(s: FakeMasterState, masterPort = 7077): unknown {
  const alive = s.workers.filter((w) => w.state === "ALIVE");
  const sum = (f: (w: FakeWorker) => number) => alive.reduce((n, w) => n + f(w), 0);
  const app = (a: FakeApp) => ({
    id: a.id,
    starttime: a.startTime,
    name: a.name,
    cores: a.cores,
    user: a.user,
    memoryperexecutor: a.memoryPerExecutorMb,
    memoryperslave: a.memoryPerExecutorMb,
    resourcesperexecutor: [],
    resourcesperslave: [],
    submitdate: submitDate(a.startTime),
    state: a.state,
    duration: a.durationMs,
  });
  const driver = (d: FakeDriver) => ({
    id: d.id,
    starttime: String(d.startTime),
    state: d.state,
    cores: d.cores,
    memory: d.memoryMb,
    resources: [],
    submitdate: submitDate(d.startTime),
    worker: d.worker,
    mainclass: d.mainClass,
  });
  return {
    url: `spark://127.0.0.1:${masterPort}`,
    workers: s.workers.map((w) => ({
      id: w.id,
      host: "127.0.0.1",
      port: w.port,
      webuiaddress: `http://127.0.0.1:${w.port + 1000}`,
      cores: w.cores,
      coresused: w.coresUsed,
      coresfree: w.cores - w.coresUsed,
      memory: w.memoryMb,
      memoryused: w.memoryUsedMb,
      memoryfree: w.memoryMb - w.memoryUsedMb,
      resources: {},
      resourcesused: {},
      resourcesfree: {},
      state: w.state,
      lastheartbeat: w.lastHeartbeat,
    })),
    aliveworkers: alive.length,
    cores: sum((w) => w.cores),
    coresused: sum((w) => w.coresUsed),
    memory: sum((w) => w.memoryMb),
    memoryused: sum((w) => w.memoryUsedMb),
    resources: [],
    resourcesused: [],
    activeapps: s.activeApps.map(app),
    completedapps: s.completedApps.map(app),
    activedrivers: s.activeDrivers.map(driver),
    completeddrivers: s.completedDrivers.map(driver),
    status: s.status,
  };
}

export interface FakeMaster {
  /** http://127.0.0.1:<port>: the connection's extra.webUiUrl. */
  url: string;
  /** The state /json/ answers from now on. */
  state: FakeMasterState;
  /** How many times /json/ was read (the page's refreshes, through the API). */
  reads(): number;
  /** Stop listening and drop open connections: the master is gone. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
}

export async function startFakeSparkMaster(initial: FakeMasterState): Promise<FakeMaster> {
  let reads = 0;
  const fake = {
    state: initial,
  } as FakeMaster;
  const server: Server = createServer((req, res) => {
    if (req.method === "GET" && (req.url === "/json/" || req.url === "/json")) {
      reads++;
      res.writeHead(200, { "content-type": "application/json;charset=utf-8" });
      res.end(JSON.stringify(masterJson(fake.state)));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  fake.url = `http://127.0.0.1:${port}`;
  fake.reads = () => reads;
  fake.stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      // Keep-alive sockets of the API's fetch would otherwise keep "the master" answering.
      server.closeAllConnections();
    });
  fake.start = () => (server.listening ? Promise.resolve() : listen(port));
  return fake;
}
