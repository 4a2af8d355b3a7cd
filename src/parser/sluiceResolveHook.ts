/**
 * Node module-resolution hook installed in processes that load DAG files:
 * the bare specifier "sluice" always resolves to the Sluice that is running,
 * so DAG folders work without their own node_modules and every DAG is built
 * by the same SDK version that schedules it.
 */
let sdkUrl = "";

export function initialize(data: { sdkUrl: string }): void {
  sdkUrl = data.sdkUrl;
}

export async function resolve(
  specifier: string,
  context: unknown,
  next: (specifier: string, context: unknown) => Promise<unknown>,
): Promise<unknown> {
  if (specifier === "sluice" && sdkUrl) return { url: sdkUrl, shortCircuit: true, format: "module" };
  const r = (await next(specifier, context)) as { url: string; format?: string | null };
  // DAG code is ESM (`import { dag } from "sluice"`). Without a "type": "module"
  // package.json above it, a .ts file would be loaded as CommonJS, where neither
  // this hook nor the TypeScript loader applies ("Cannot find package 'sluice'").
  if (!r.format && r.url.startsWith("file:") && /\.ts(\?|$)/.test(r.url) && !r.url.includes("/node_modules/")) return { ...r, format: "module" };
  return r;
}
