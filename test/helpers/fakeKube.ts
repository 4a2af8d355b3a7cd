/**
 * What the test Kubernetes API servers share (fakeKubeApi for
 * SparkApplications, fakeKubePods for the pod executor, fakeKubeScale for the
 * autoscaler): a server on 127.0.0.1 and the Status object the real API server
 * answers errors with.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A Kubernetes `Status` failure body (what client-node reads the reason and message from). */
export function kubeStatus(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details ? { details } : {}), code };
}

/** Listen on a free port of 127.0.0.1; the server and its base URL. */
export async function listenLocal(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Stop accepting, drop open connections (watches, log follows), and wait until closed. */
export async function closeLocal(server: Server | undefined): Promise<void> {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
}
