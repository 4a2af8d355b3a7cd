/**
 * deploy/ci: the GitHub Actions workflow and the Jenkinsfile that Sluice users copy into their
 * DAG repository (docs/ci.md). Neither GitHub nor Jenkins runs here, so each file meets the
 * nearest real thing:
 * - the workflow is parsed with `yaml`, validated against SchemaStore's GitHub workflow schema
 *   (schemas/github/), and the sync job's `if:` is evaluated for the events that matter;
 * - the Jenkinsfile is parsed by Groovy 2.4.21, the Groovy that Jenkins runs pipelines with
 *   (from Maven Central, 4.7 MB, fetched once with `mvn`), and its syntax tree is checked
 *   against the rules Jenkins' declarative validator applies; that validator itself is a
 *   Jenkins plugin published only in Jenkins' own repository, out of reach here. Its `when`
 *   condition is evaluated in Groovy for the branches that matter;
 * - the shell both files run is run for real: `sluice dags check` on the example DAGs and on
 *   a folder with a broken file, the report step on the JUnit file it wrote, and the sync call
 *   against a local HTTP server that answers 2xx, 403 and 404.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { listDagFiles } from "../../src/parser/dagProcessor.js";

type Any = Record<string, any>;

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const read = (p: string) => readFileSync(join(REPO_ROOT, p), "utf8");
const WORKFLOW = "deploy/ci/github-actions.yml";
const JENKINSFILE = "deploy/ci/Jenkinsfile";
const tmp = mkdtempSync(join(tmpdir(), "sluice-ci-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------- processes

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}
const show = (r: Result) => `exit ${r.code}\nstdout: ${r.stdout.slice(0, 3000)}\nstderr: ${r.stderr.slice(0, 3000)}`;

/** The environment of a CI runner: this machine's, without the test runner's and Sluice's own variables. */
function ciEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("SLUICE_") && !k.startsWith("GITHUB_") && k !== "NODE_TEST_CONTEXT") env[k] = v;
  env.PATH = [dirname(process.execPath), env.PATH ?? ""].join(delimiter);
  return { ...env, ...extra };
}

/** Asynchronous on purpose: the sync scripts call an HTTP server that lives in this process. */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = ciEnv()): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 16 << 20, timeout: 300_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 127) : 0;
      resolve({ code, stdout, stderr: err && code === 127 ? `${stderr}${err.message}` : stderr });
    });
  });
}

/** Runs a script the way GitHub runs a `run:` with `shell: bash`. */
function githubBash(script: string, cwd: string, env: Record<string, string>): Promise<Result> {
  const file = join(cwd, `.gh-step-${createHash("sha1").update(script).digest("hex").slice(0, 8)}.sh`);
  writeFileSync(file, script);
  return run("bash", ["--noprofile", "--norc", "-eo", "pipefail", file], cwd, env);
}

/** Runs a script the way Jenkins' `sh` step does (`sh -xe` when it has no #! line). */
function jenkinsSh(script: string, cwd: string, env: Record<string, string>): Promise<Result> {
  const file = join(cwd, `.jenkins-sh-${createHash("sha1").update(script).digest("hex").slice(0, 8)}.sh`);
  writeFileSync(file, script);
  return run("sh", ["-xe", file], cwd, env);
}

// ---------------------------------------------------------------- the workflow

const workflow = parse(read(WORKFLOW)) as Any;
const steps = (job: string): Any[] => workflow.jobs[job].steps;
function stepThatRuns(job: string, re: RegExp): Any {
  const step = steps(job).find((s) => typeof s.run === "string" && re.test(s.run));
  assert.ok(step, `no step of job "${job}" runs ${re}`);
  return step;
}
function stepThatUses(job: string, action: string): Any {
  const step = steps(job).find((s) => typeof s.uses === "string" && s.uses.split("@")[0] === action);
  assert.ok(step, `no step of job "${job}" uses ${action}`);
  return step;
}

type Value = string | number | boolean | null | Any;

/**
 * The part of GitHub's expression language the workflow uses in `if:` and `env:` (literals,
 * property access, `!`, `==`, `!=`, `&&`, `||`, `format()`), with GitHub's semantics: `||` and
 * `&&` return an operand, string comparison ignores case, a missing property is null. Anything
 * else throws, so the workflow cannot grow an expression this does not understand.
 */
function evaluate(expression: string, ctx: Record<string, Value>): Value {
  const src = expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, "$1");
  const tokens: string[] = [];
  for (let i = 0; i < src.length; ) {
    const m = /^\s*('(?:[^']|'')*'|&&|\|\||==|!=|[!().,]|[A-Za-z_][\w-]*|\d+)/.exec(src.slice(i));
    if (!m) throw new Error(`cannot read the expression ${src} at "${src.slice(i)}"`);
    tokens.push(m[1]);
    i += m[0].length;
    while (i < src.length && /\s/.test(src[i])) i++;
  }
  let at = 0;
  const peek = () => tokens[at];
  const take = (want?: string) => {
    const t = tokens[at++];
    if (t === undefined || (want !== undefined && t !== want)) throw new Error(`expected ${want ?? "more"} in ${src}`);
    return t;
  };
  const truthy = (v: Value) => !(v === false || v === 0 || v === "" || v === null || Number.isNaN(v));
  const equal = (a: Value, b: Value) => (typeof a === "string" && typeof b === "string" ? a.toLowerCase() === b.toLowerCase() : a === b);
  const call = (name: string, args: Value[]): Value => {
    if (name !== "format") throw new Error(`the test does not evaluate ${name}()`);
    return String(args[0]).replace(/\{(\d+)\}/g, (_, n: string) => String(args[Number(n) + 1] ?? ""));
  };
  const primary = (): Value => {
    const t = take();
    if (t === "(") {
      const v = or();
      take(")");
      return v;
    }
    if (t.startsWith("'")) return t.slice(1, -1).replaceAll("''", "'");
    if (/^\d/.test(t)) return Number(t);
    if (t === "true" || t === "false") return t === "true";
    if (t === "null") return null;
    if (peek() === "(") {
      take("(");
      const args: Value[] = [];
      while (peek() !== ")") {
        args.push(or());
        if (peek() === ",") take(",");
      }
      take(")");
      return call(t, args);
    }
    if (!(t in ctx)) throw new Error(`unknown context "${t}" in ${src}`);
    let v: Value = ctx[t];
    while (peek() === ".") {
      take(".");
      const key = take();
      v = v !== null && typeof v === "object" ? ((v as Any)[key] ?? null) : null;
    }
    return v;
  };
  const unary = (): Value => (peek() === "!" ? (take(), !truthy(unary())) : primary());
  const compare = (): Value => {
    const left = unary();
    if (peek() !== "==" && peek() !== "!=") return left;
    const op = take();
    const same = equal(left, unary());
    return op === "==" ? same : !same;
  };
  const and = (): Value => {
    let v = compare();
    while (peek() === "&&") {
      take();
      const r = compare();
      v = truthy(v) ? r : v;
    }
    return v;
  };
  const or = (): Value => {
    let v = and();
    while (peek() === "||") {
      take();
      const r = and();
      v = truthy(v) ? v : r;
    }
    return v;
  };
  const result = or();
  if (at !== tokens.length) throw new Error(`unexpected "${tokens[at]}" in ${src}`);
  return result;
}
const ghDefault = (expr: string): Value => evaluate(expr, { vars: {} });

/** The environment GitHub gives a step: the workflow's, the job's and the step's `env`, evaluated (an unset variable or secret is ""). */
function githubEnv(job: string, step: Any, ctx: Record<string, Value>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const env of [workflow.env, workflow.jobs[job].env, step.env])
    for (const [k, v] of Object.entries((env ?? {}) as Any)) out[k] = typeof v === "string" && v.includes("${{") ? String(evaluate(v, ctx) ?? "") : String(v);
  return out;
}

// ---------------------------------------------------------------- the Jenkinsfile, through Groovy

const GROOVY_VERSION = "2.4.21";
/** Of org.codehaus.groovy:groovy:2.4.21 on Maven Central: a jar that is not this one is not trusted. */
const GROOVY_SHA256 = "cc637a03e8ffddd487177bed948f162200a08f4847089091e06d70c2a1480fee";

async function groovyJar(): Promise<string> {
  const jar = join(homedir(), ".m2", "repository", "org", "codehaus", "groovy", "groovy", GROOVY_VERSION, `groovy-${GROOVY_VERSION}.jar`);
  if (!existsSync(jar)) {
    const r = await run("mvn", ["-q", "-B", "dependency:get", `-Dartifact=org.codehaus.groovy:groovy:${GROOVY_VERSION}`, "-Dtransitive=false"], tmp);
    if (r.code !== 0) throw new Error(`Fetching Groovy ${GROOVY_VERSION} from Maven Central failed; these tests need Java 17 and Maven (\`mvn\`) on the PATH.\n${show(r)}`);
  }
  if (!existsSync(jar)) throw new Error(`mvn did not put Groovy at ${jar} (a custom localRepository in ~/.m2/settings.xml?); copy groovy-${GROOVY_VERSION}.jar there.`);
  const sum = createHash("sha256").update(readFileSync(jar)).digest("hex");
  if (sum !== GROOVY_SHA256) throw new Error(`${jar} has sha256 ${sum}, not the one of Groovy ${GROOVY_VERSION} from Maven Central: delete it and run the test again.`);
  return jar;
}

/**
 * Parses each file given (to the CONVERSION phase: the syntax tree, nothing resolved, as the
 * declarative validator sees it) and prints a JSON array: per file its statements as a tree of
 * calls, closures (`block`, with their source position), constants, GStrings, maps, lists,
 * declarations and assignments; or `error` with the compiler's message.
 */
const GROOVY_DUMP = String.raw`
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.Phases
import org.codehaus.groovy.ast.expr.*
import org.codehaus.groovy.ast.stmt.*

String q(Object o) {
  StringBuilder b = new StringBuilder('"')
  for (char c : String.valueOf(o).toCharArray()) {
    if (c == '"' as char || c == '\\' as char) b.append('\\').append(c)
    else if (c < 0x20) b.append(String.format('\\u%04x', (int) c))
    else b.append(c)
  }
  b.append('"').toString()
}
String stmts(Statement s) {
  List<Statement> list = s instanceof BlockStatement ? s.statements : [s]
  '[' + list.collect { stmt(it) }.join(',') + ']'
}
String stmt(Statement s) {
  if (s instanceof ExpressionStatement) return expr(s.expression)
  if (s instanceof ReturnStatement) return expr(s.expression)
  if (s instanceof IfStatement) return '{"if":' + q(s.booleanExpression.text) + ',"then":' + stmts(s.ifBlock) + ',"else":' + stmts(s.elseBlock) + '}'
  '{"stmt":' + q(s.class.simpleName) + ',"line":' + s.lineNumber + '}'
}
String expr(Expression e) {
  if (e instanceof MethodCallExpression) {
    List args = e.arguments instanceof TupleExpression ? e.arguments.expressions : [e.arguments]
    return '{"call":' + q(e.methodAsString) + ',"line":' + e.lineNumber + (e.implicitThis ? '' : ',"on":' + q(e.objectExpression.text)) + ',"args":[' + args.collect { expr(it) }.join(',') + ']}'
  }
  if (e instanceof ClosureExpression) return '{"block":' + stmts(e.code) + ',"at":[' + [e.lineNumber, e.columnNumber, e.lastLineNumber, e.lastColumnNumber].join(',') + ']}'
  if (e instanceof ConstantExpression) return '{"const":' + q(e.value) + '}'
  if (e instanceof GStringExpression) return '{"gstring":' + q(e.text) + '}'
  if (e instanceof MapExpression) return '{"map":{' + e.mapEntryExpressions.collect { q(it.keyExpression.text) + ':' + expr(it.valueExpression) }.join(',') + '}}'
  if (e instanceof ListExpression) return '{"list":[' + e.expressions.collect { expr(it) }.join(',') + ']}'
  if (e instanceof DeclarationExpression) return '{"declare":' + q(e.leftExpression.text) + ',"value":' + expr(e.rightExpression) + '}'
  if (e instanceof BinaryExpression && e.operation.text == '=') return '{"assign":' + q(e.leftExpression.text) + ',"value":' + expr(e.rightExpression) + '}'
  '{"expr":' + q(e.text) + ',"kind":' + q(e.class.simpleName) + '}'
}

println('[' + args.collect { path ->
  try {
    def unit = new CompilationUnit()
    unit.addSource(new File(path))
    unit.compile(Phases.CONVERSION)
    def module = unit.AST.modules[0]
    '{"file":' + q(path) + ',"statements":' + stmts(module.statementBlock) + ',"methods":[' + module.methods.collect { q(it.name) }.join(',') + ']}'
  } catch (MultipleCompilationErrorsException err) {
    '{"file":' + q(path) + ',"error":' + q(err.message) + '}'
  }
}.join(',') + ']')
`;

type Node =
  | { call: string; line: number; on?: string; args: Node[] }
  | { block: Node[]; at: [number, number, number, number] }
  | { const: string }
  | { gstring: string }
  | { map: Record<string, Node> }
  | { list: Node[] }
  | { declare: string; value: Node }
  | { assign: string; value: Node }
  | { if: string; then: Node[]; else: Node[] }
  | { expr: string; kind: string }
  | { stmt: string; line: number };
type Call = Extract<Node, { call: string }>;
type Block = Extract<Node, { block: Node[] }>;
interface Parsed {
  file: string;
  statements?: Node[];
  methods?: string[];
  error?: string;
}

let jar = "";
async function groovy(args: string[]): Promise<Result> {
  return run("java", ["-cp", jar, "groovy.ui.GroovyMain", ...args], tmp);
}
async function parseGroovy(files: string[]): Promise<Parsed[]> {
  const script = join(tmp, "dump.groovy");
  writeFileSync(script, GROOVY_DUMP);
  const r = await groovy([script, ...files]);
  assert.equal(r.code, 0, show(r));
  return JSON.parse(r.stdout) as Parsed[];
}

const isCall = (n: Node | undefined): n is Call => !!n && "call" in n;
const blockArg = (c: Call): Block | undefined => c.args.find((a): a is Block => "block" in a);
const constArg = (c: Call): string | undefined => (c.args[0] && "const" in c.args[0] ? c.args[0].const : undefined);
const mapArg = (c: Call): Record<string, Node> => (c.args.find((a) => "map" in a) as { map: Record<string, Node> } | undefined)?.map ?? {};
const constOf = (n: Node | undefined): string | undefined => (n && "const" in n ? n.const : undefined);
function section(block: Node[], name: string): Node[] {
  const found = block.filter((n): n is Call => isCall(n) && n.call === name);
  assert.equal(found.length, 1, `expected one ${name} { } section, found ${found.length}`);
  const b = blockArg(found[0]);
  assert.ok(b, `${name} has no { } block`);
  return b.block;
}
function* walk(nodes: Node[]): Generator<Node> {
  for (const n of nodes) {
    yield n;
    if ("args" in n) yield* walk(n.args);
    if ("block" in n) yield* walk(n.block);
    if ("list" in n) yield* walk(n.list);
    if ("map" in n) yield* walk(Object.values(n.map));
    if ("value" in n) yield* walk([n.value]);
    if ("then" in n) yield* walk([...n.then, ...n.else]);
  }
}
const callsIn = (nodes: Node[], name: string) => [...walk(nodes)].filter((n): n is Call => isCall(n) && n.call === name);

/** What Jenkins exports to every `sh` step: each build parameter as an environment variable (here: its default). */
function jenkinsParams(parsed: Parsed): Record<string, string> {
  const pipeline = blockArg(parsed.statements![0] as Call)!.block;
  return Object.fromEntries(section(pipeline, "parameters").filter(isCall).map((c) => [constOf(mapArg(c).name) ?? "", constOf(mapArg(c).defaultValue) ?? ""]));
}

// What Jenkins' declarative validator (pipeline-model-definition) accepts where.
const PIPELINE_SECTIONS = new Set(["agent", "environment", "options", "parameters", "triggers", "tools", "stages", "post", "libraries", "input"]);
const STAGE_SECTIONS = new Set(["agent", "environment", "options", "when", "steps", "stages", "parallel", "matrix", "post", "input", "tools", "failFast"]);
const STAGE_BODIES = ["steps", "stages", "parallel", "matrix"];
const POST_CONDITIONS = new Set(["always", "changed", "fixed", "regression", "aborted", "failure", "success", "unstable", "unsuccessful", "cleanup", "notBuilt"]);
const WHEN_CONDITIONS = new Set(["branch", "buildingTag", "changelog", "changeset", "changeRequest", "environment", "equals", "expression", "tag", "not", "allOf", "anyOf", "triggeredBy", "beforeAgent", "beforeInput", "beforeOptions"]);

/** Problems a declarative pipeline has, in the words of the rule it breaks; empty when none. */
function declarativeProblems(parsed: Parsed): string[] {
  if (parsed.error) return [`does not parse: ${parsed.error}`];
  const problems: string[] = [];
  const top = parsed.statements ?? [];
  if (top.length !== 1 || !isCall(top[0]) || top[0].call !== "pipeline" || !blockArg(top[0])) return ["the file must hold one `pipeline { }` block and nothing else"];
  const steps = (nodes: Node[], where: string) => {
    for (const n of nodes) {
      if (!isCall(n)) {
        problems.push(`${where}: only steps may stand here (put Groovy code inside script { }), found ${JSON.stringify(n).slice(0, 80)}`);
        continue;
      }
      const inner = blockArg(n);
      // A step that takes a body (withCredentials, dir, timeout, ...) holds steps again; script { } holds any Groovy.
      if (inner && n.call !== "script") steps(inner.block, `${where} > ${n.call}`);
    }
  };
  const post = (nodes: Node[], where: string) => {
    for (const n of nodes) {
      if (!isCall(n) || !POST_CONDITIONS.has(n.call) || !blockArg(n)) problems.push(`${where} > post: unknown condition ${JSON.stringify(n).slice(0, 60)}`);
      else steps(blockArg(n)!.block, `${where} > post > ${n.call}`);
    }
  };
  const when = (nodes: Node[], where: string) => {
    for (const n of nodes) {
      if (!isCall(n) || !WHEN_CONDITIONS.has(n.call)) problems.push(`${where}: unknown when condition ${JSON.stringify(n).slice(0, 60)}`);
      else if (["not", "allOf", "anyOf"].includes(n.call)) when(blockArg(n)?.block ?? [], `${where} > ${n.call}`);
      else if (n.call === "expression" && !blockArg(n)) problems.push(`${where}: expression needs a { } block`);
    }
  };
  const sections = (nodes: Node[], allowed: Set<string>, where: string): Map<string, Call> => {
    const seen = new Map<string, Call>();
    for (const n of nodes) {
      if (!isCall(n) || !allowed.has(n.call)) problems.push(`${where}: unknown section ${isCall(n) ? n.call : JSON.stringify(n).slice(0, 60)}`);
      else if (seen.has(n.call)) problems.push(`${where}: ${n.call} appears twice`);
      else seen.set(n.call, n);
    }
    return seen;
  };
  const stages = (nodes: Node[], where: string) => {
    const names = new Set<string>();
    for (const n of nodes) {
      const name = isCall(n) && n.call === "stage" ? constArg(n) : undefined;
      const body = isCall(n) ? blockArg(n) : undefined;
      if (!name || !body) {
        problems.push(`${where}: only stage('name') { } may stand here`);
        continue;
      }
      if (names.has(name)) problems.push(`${where}: two stages named "${name}"`);
      names.add(name);
      const s = sections(body.block, STAGE_SECTIONS, `stage "${name}"`);
      const kinds = STAGE_BODIES.filter((k) => s.has(k));
      if (kinds.length !== 1) problems.push(`stage "${name}": needs exactly one of ${STAGE_BODIES.join(", ")}, found ${kinds.join(", ") || "none"}`);
      if (s.has("steps")) steps(blockArg(s.get("steps")!)?.block ?? [], `stage "${name}" > steps`);
      if (s.has("stages")) stages(blockArg(s.get("stages")!)?.block ?? [], `stage "${name}" > stages`);
      if (s.has("post")) post(blockArg(s.get("post")!)?.block ?? [], `stage "${name}"`);
      if (s.has("when")) when(blockArg(s.get("when")!)?.block ?? [], `stage "${name}" > when`);
    }
    if (names.size === 0) problems.push(`${where}: no stage`);
  };
  const p = sections(blockArg(top[0])!.block, PIPELINE_SECTIONS, "pipeline");
  for (const required of ["agent", "stages"]) if (!p.has(required)) problems.push(`pipeline: the ${required} section is missing`);
  if (p.has("stages")) stages(blockArg(p.get("stages")!)?.block ?? [], "stages");
  if (p.has("post")) post(blockArg(p.get("post")!)?.block ?? [], "pipeline");
  return problems;
}

/** The source text inside a closure's braces, from the positions Groovy recorded. */
function closureSource(text: string, b: Block): string {
  const lines = text.split("\n");
  const [l1, c1, l2, c2] = b.at;
  const src = l1 === l2 ? lines[l1 - 1].slice(c1 - 1, c2 - 1) : [lines[l1 - 1].slice(c1 - 1), ...lines.slice(l1, l2 - 1), lines[l2 - 1].slice(0, c2 - 1)].join("\n");
  assert.match(src, /^\{[\s\S]*\}$/, `closure source at ${b.at.join(":")}`);
  return src.slice(1, -1);
}

// ---------------------------------------------------------------- a user's DAG repository

/**
 * A checkout of a user's repository after `npm ci`: package.json, node_modules with sluice (this
 * one) and its bin, and zod (the example DAGs declare their params with it), and dags/.
 */
function userRepo(name: string, dags: Record<string, string> | string): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module", dependencies: { sluice: `file:${REPO_ROOT}`, zod: "*" } }, null, 2));
  symlinkSync(REPO_ROOT, join(dir, "node_modules", "sluice"), "dir");
  symlinkSync(join(REPO_ROOT, "node_modules", "zod"), join(dir, "node_modules", "zod"), "dir");
  symlinkSync(join("..", "sluice", "bin", "sluice.js"), join(dir, "node_modules", ".bin", "sluice"));
  if (typeof dags === "string") cpSync(dags, join(dir, "dags"), { recursive: true });
  else {
    mkdirSync(join(dir, "dags"));
    for (const [file, text] of Object.entries(dags)) writeFileSync(join(dir, "dags", file), text);
  }
  return dir;
}

interface Case {
  name: string;
  failure?: string;
}
function junitCases(xml: string): { tests: number; failures: number; cases: Case[] } {
  const suite = /<testsuite\b[^>]*\btests="(\d+)"[^>]*\bfailures="(\d+)"/.exec(xml);
  assert.ok(suite, `no <testsuite tests= failures=> in\n${xml}`);
  const cases = [...xml.matchAll(/<testcase\b[^>]*\bname="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map(([, name, body]) => ({ name, failure: body ? /<failure\b[^>]*\bmessage="([^"]*)"/.exec(body)?.[1] : undefined }));
  return { tests: Number(suite[1]), failures: Number(suite[2]), cases };
}

const BROKEN_DAG = `import { dag } from "sluice";

export default dag({ id: "broken", schedule: "@daily", start: "2026-01-01" }, (d) => {
  d.shell("load", "echo load";
});
`;

// ---------------------------------------------------------------- a Sluice API that records what it is asked

interface Seen {
  method: string;
  url: string;
  authorization?: string;
}
const seen: Seen[] = [];
// Bodies shaped like the real API's (src/api/routes/bundles.ts, src/api/auth.ts).
let answer = { status: 202, body: '{"requested":true,"bundle":"pipelines"}' };
const api = createServer((req, res) => {
  seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization });
  req.resume();
  req.on("end", () => res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body));
});
let apiUrl = "";
before(async () => {
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  jar = await groovyJar();
});
after(() => new Promise<void>((resolve) => api.close(() => resolve())));

// ---------------------------------------------------------------- tests

describe("deploy/ci/github-actions.yml", () => {
  it("is a valid workflow by SchemaStore's GitHub workflow schema, which rejects a misspelt key", () => {
    const schema = JSON.parse(read("schemas/github/github-workflow.json")) as Any;
    const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);
    assert.ok(validate(workflow), JSON.stringify(validate.errors, null, 2));
    const typo = structuredClone(workflow);
    typo.jobs.sync["runs_on"] = typo.jobs.sync["runs-on"];
    delete typo.jobs.sync["runs-on"];
    assert.equal(validate(typo), false, "a job with runs_on instead of runs-on must not pass");
    const widened = structuredClone(workflow);
    widened.permissions = { contents: "readonly" };
    assert.equal(validate(widened), false, "permissions must be read/write/none");
  });

  it("runs on push and pull_request, reads the code only, and serializes runs per ref", () => {
    assert.deepEqual(Object.keys(workflow.on).sort(), ["pull_request", "push"]);
    assert.deepEqual(workflow.permissions, { contents: "read" });
    for (const [id, job] of Object.entries(workflow.jobs as Any)) {
      assert.equal(job.permissions, undefined, `job ${id} must not widen the permissions`);
      assert.ok(Number(job["timeout-minutes"]) > 0, `job ${id} needs a timeout`);
    }
    assert.match(workflow.concurrency.group, /\$\{\{ github\.ref \}\}/);
    // A push must wait for the run before it (cancelling it could cut a sync short); a pull request's stale check may go.
    assert.equal(evaluate(workflow.concurrency["cancel-in-progress"], { github: { event_name: "push" } }), false);
    assert.equal(evaluate(workflow.concurrency["cancel-in-progress"], { github: { event_name: "pull_request" } }), true);
  });

  it("check: checkout, Node 20 with the npm cache, npm ci, `sluice dags check --junit`, the report kept and shown even when the check failed", () => {
    const names = steps("check").map((s) => s.uses?.split("@")[0] ?? s.name);
    assert.deepEqual(steps("check")[0].uses, "actions/checkout@v4");
    assert.equal(steps("check")[0].with["persist-credentials"], false, "the checkout must not leave a token in .git/config");
    const node = stepThatUses("check", "actions/setup-node");
    assert.equal(node.uses, "actions/setup-node@v4");
    assert.deepEqual([String(node.with["node-version"]), node.with.cache], ["20", "npm"]);
    const install = stepThatRuns("check", /^npm ci\b/);
    const check = stepThatRuns("check", /sluice dags check/);
    const junit = /npx --no-install sluice dags check --dags "\$DAGS_DIR" --junit (\S+)/.exec(check.run);
    assert.ok(junit, check.run);
    const upload = stepThatUses("check", "actions/upload-artifact");
    assert.equal(upload.uses, "actions/upload-artifact@v4");
    assert.equal(upload.with.path, junit[1]);
    const summary = stepThatRuns("check", /GITHUB_STEP_SUMMARY/);
    assert.ok(summary.run.includes(junit[1]), "the summary step reads the report the check wrote");
    for (const s of [upload, summary]) assert.match(s.if, /!cancelled\(\)/, `${s.name ?? s.uses} must run after a failed check too`);
    const order = [node, install, check, upload, summary].map((s) => steps("check").indexOf(s));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), `steps out of order: ${names.join(", ")}`);
    assert.equal(ghDefault(workflow.env.DAGS_DIR), "dags");
    assert.equal(evaluate(workflow.env.DAGS_DIR, { vars: { SLUICE_DAGS: "pipelines/dags" } }), "pipelines/dags");
  });

  it("sync needs check and runs only after a push to the tracked branch", () => {
    const sync = workflow.jobs.sync as Any;
    assert.deepEqual([sync.needs].flat(), ["check"]);
    const runs = (event_name: string, ref: string, vars: Any = {}) => evaluate(sync.if, { github: { event_name, ref }, vars }) === true;
    assert.equal(runs("push", "refs/heads/main"), true, "push to main, the default tracked branch");
    assert.equal(runs("pull_request", "refs/pull/7/merge"), false, "a pull request is checked, never synced");
    assert.equal(runs("pull_request", "refs/heads/main"), false);
    assert.equal(runs("push", "refs/heads/feature/x"), false, "another branch");
    assert.equal(runs("push", "refs/tags/main"), false, "a tag named like the branch");
    assert.equal(runs("push", "refs/heads/release", { SLUICE_BRANCH: "release" }), true, "vars.SLUICE_BRANCH moves the tracked branch");
    assert.equal(runs("push", "refs/heads/main", { SLUICE_BRANCH: "release" }), false);
  });

  it("the token comes from secrets through env, never into a script; the URL from vars", () => {
    const text = read(WORKFLOW);
    for (const [id, job] of Object.entries(workflow.jobs as Any))
      for (const s of job.steps as Any[]) if (s.run) assert.doesNotMatch(s.run, /\$\{\{/, `job ${id}, step ${s.name}: expressions in a script are an injection risk; pass them through env`);
    assert.deepEqual([...text.matchAll(/secrets\.\w+/g)].map((m) => m[0]), ["secrets.SLUICE_SYNC_TOKEN"]);
    const step = stepThatRuns("sync", /curl/);
    assert.equal(step.env.SYNC_TOKEN, "${{ secrets.SLUICE_SYNC_TOKEN }}");
    assert.equal(step.env.API_URL, "${{ vars.SLUICE_URL }}");
    assert.equal(ghDefault(step.env.BUNDLE_NAME), "pipelines");
    // The sluice CLI reads every SLUICE_* variable as its config and refuses unknown ones: `dags check` would fail.
    for (const [id, job] of Object.entries(workflow.jobs as Any))
      for (const s of job.steps as Any[]) for (const name of Object.keys(githubEnv(id, s, { vars: {}, secrets: {} }))) assert.doesNotMatch(name, /^SLUICE_/, `job ${id}: ${name}`);
    assert.match(step.run, /--header "Authorization: Bearer \$SYNC_TOKEN"/);
    assert.match(step.run, /curl --fail-with-body /);
    assert.equal(JSON.stringify(workflow.jobs.check).includes("secrets."), false, "the check job (which runs pull requests' code) sees no secret");
  });
});

describe("deploy/ci/Jenkinsfile", () => {
  const text = read(JENKINSFILE);
  let parsed: Parsed;
  let pipeline: Node[];
  let stages: Call[];
  const stage = (name: string): Node[] => {
    const s = stages.find((c) => constArg(c) === name);
    assert.ok(s, `no stage "${name}"; stages: ${stages.map(constArg).join(", ")}`);
    return blockArg(s)!.block;
  };
  before(async () => {
    [parsed] = await parseGroovy([join(REPO_ROOT, JENKINSFILE)]);
    assert.equal(parsed.error, undefined, parsed.error);
    pipeline = blockArg(parsed.statements![0] as Call)!.block;
    stages = section(pipeline, "stages").filter(isCall);
  });

  it("parses with Jenkins' Groovy and follows the declarative rules; broken variants do not", async () => {
    assert.deepEqual(declarativeProblems(parsed), []);
    const variants: [string, string, string, RegExp][] = [
      ["groovy.Jenkinsfile", "sh 'npm ci --no-audit --no-fund'", "def npm = 'npm'\n        sh 'npm ci'", /stage "Install" > steps: only steps may stand here/],
      ["section.Jenkinsfile", "  options {", "  option {", /pipeline: unknown section option/],
      ["nosteps.Jenkinsfile", "      steps {\n        sh 'npm ci --no-audit --no-fund'\n      }", "", /stage "Install": needs exactly one of steps/],
      ["post.Jenkinsfile", "always {", "allways {", /post: unknown condition/],
      ["brace.Jenkinsfile", "  }\n}\n", "  }\n", /does not parse: [\s\S]*expecting '}', found ''/],
    ];
    const files = variants.map(([file, from, to]) => {
      assert.ok(text.includes(from), `the Jenkinsfile no longer contains ${JSON.stringify(from)}: update this variant`);
      writeFileSync(join(tmp, file), text.replace(from, to));
      return join(tmp, file);
    });
    const results = await parseGroovy(files);
    variants.forEach(([file, , , problem], i) => {
      const problems = declarativeProblems(results[i]);
      assert.ok(problems.some((p) => problem.test(p)), `${file}: expected ${problem}, got ${JSON.stringify(problems)}`);
    });
  });

  it("takes the URL, bundle, branch and DAG folder as parameters with the workflow's defaults", () => {
    const kinds = section(pipeline, "parameters").map((c) => (isCall(c) ? c.call : JSON.stringify(c)));
    assert.deepEqual(kinds, ["string", "string", "string", "string"]);
    const params = jenkinsParams(parsed);
    // Parameters become environment variables, and the sluice CLI refuses SLUICE_* variables it does not know.
    assert.deepEqual(Object.keys(params).sort(), ["API_URL", "BUNDLE_NAME", "DAGS_DIR", "TRACKED_BRANCH"]);
    for (const [name, value] of Object.entries(params)) assert.ok(value, `${name} needs a default`);
    assert.equal(params.DAGS_DIR, ghDefault(workflow.env.DAGS_DIR));
    assert.equal(params.BUNDLE_NAME, ghDefault(stepThatRuns("sync", /curl/).env.BUNDLE_NAME));
    assert.equal(params.TRACKED_BRANCH, "main");
    assert.match(params.API_URL, /^https?:\/\/[^/]+$/);
    const options = section(pipeline, "options").filter(isCall).map((c) => c.call);
    assert.ok(options.includes("disableConcurrentBuilds"), "two pushes must not sync out of order");
  });

  it("checks out, installs, checks the DAGs with --junit and publishes that report even when the check failed, then syncs", () => {
    assert.deepEqual(stages.map(constArg), ["Checkout", "Install", "Check DAGs", "Sync Sluice"]);
    assert.equal(callsIn(stage("Checkout"), "checkout").length, 1);
    assert.match(constArg(callsIn(stage("Install"), "sh")[0]) ?? "", /^npm ci\b/);
    const check = constArg(callsIn(section(stage("Check DAGs"), "steps"), "sh")[0]) ?? "";
    const junit = /npx --no-install sluice dags check --dags "\$DAGS_DIR" --junit (\S+)/.exec(check);
    assert.ok(junit, check);
    const publish = callsIn(section(section(stage("Check DAGs"), "post"), "always"), "junit");
    assert.equal(publish.length, 1, "the junit step belongs in post { always { } } of the check stage");
    assert.equal(constOf(mapArg(publish[0]).testResults), junit[1]);
  });

  it("syncs with a token from the credentials store that Groovy never interpolates", () => {
    const binding = callsIn(stage("Sync Sluice"), "withCredentials");
    assert.equal(binding.length, 1);
    const [credential] = callsIn(binding[0].args, "string");
    assert.deepEqual([constOf(mapArg(credential).credentialsId), constOf(mapArg(credential).variable)], ["sluice-sync-token", "SYNC_TOKEN"]);
    const [sh] = callsIn(blockArg(binding[0])!.block, "sh");
    assert.ok(sh.args[0] && "const" in sh.args[0], "the sync script must be a '''single-quoted''' string: a GString would put the token into the command Jenkins logs");
    assert.match(constArg(sh)!, /--header "Authorization: Bearer \$SYNC_TOKEN"/);
    for (const n of walk(parsed.statements!)) if ("gstring" in n) assert.doesNotMatch(n.gstring, /TOKEN|credential/i);
    assert.equal(callsIn(stage("Check DAGs"), "withCredentials").length, 0);
  });

  it("the sync stage's when condition, run in Groovy, passes for the tracked branch only", async () => {
    const conditions = section(stage("Sync Sluice"), "when").filter(isCall);
    assert.deepEqual(conditions.map((c) => c.call), ["expression"]);
    const src = closureSource(text, blockArg(conditions[0])!);
    const cases: [Record<string, string>, string, boolean, string][] = [
      [{ BRANCH_NAME: "main" }, "main", true, "multibranch job, main"],
      [{ BRANCH_NAME: "PR-12", CHANGE_ID: "12" }, "main", false, "multibranch job, a pull request"],
      [{ BRANCH_NAME: "feature/x" }, "main", false, "multibranch job, another branch"],
      [{ GIT_BRANCH: "origin/main" }, "main", true, "Pipeline job, main"],
      [{ GIT_BRANCH: "origin/dev" }, "main", false, "Pipeline job, another branch"],
      [{ BRANCH_NAME: "release" }, "release", true, "TRACKED_BRANCH=release"],
      [{ GIT_BRANCH: "origin/main" }, "release", false, "TRACKED_BRANCH=release, main built"],
      [{}, "main", false, "no branch known"],
    ];
    const map = (m: Record<string, string>) => `[${Object.entries(m).map(([k, v]) => `${k}: '${v}'`).join(", ") || ":"}]`;
    const program = [`def condition = { env, params -> ${src} }`, ...cases.map(([env, branch]) => `println(condition(${map(env)}, ${map({ TRACKED_BRANCH: branch })}) as boolean)`)].join("\n");
    const r = await groovy(["-e", program]);
    assert.equal(r.code, 0, show(r));
    const got = r.stdout.trim().split("\n");
    cases.forEach(([, , want, what], i) => assert.equal(got[i], String(want), what));
  });
});

describe("deploy/ci: the check commands, run for real", () => {
  const ghCheck = () => stepThatRuns("check", /sluice dags check/).run as string;
  const ghSummary = () => stepThatRuns("check", /GITHUB_STEP_SUMMARY/).run as string;
  let jenkinsCheck = "";
  let params: Record<string, string> = {};
  before(async () => {
    const [p] = await parseGroovy([join(REPO_ROOT, JENKINSFILE)]);
    jenkinsCheck = callsIn(p.statements!, "sh").map((c) => constArg(c) ?? "").find((s) => s.includes("sluice dags check")) ?? "";
    assert.ok(jenkinsCheck, "no sh step runs sluice dags check");
    params = jenkinsParams(p);
  });
  // Each runs with the variables its CI sets, with their defaults: the check must not trip over them.
  const ghRun = (script: string, repo: string) => githubBash(script, repo, ciEnv({ ...githubEnv("check", {}, { vars: {}, secrets: {} }), GITHUB_STEP_SUMMARY: join(repo, "summary.md") }));
  const jenkinsRun = (repo: string) => jenkinsSh(jenkinsCheck, repo, ciEnv(params));

  it("the example DAGs pass: exit 0 and a testcase per DAG file, in the report, the summary and Jenkins' run", async () => {
    const repo = userRepo("good", join(REPO_ROOT, "examples", "dags"));
    const expected = (await listDagFiles(join(repo, "dags"))).map((f) => relative(join(repo, "dags"), f)).sort();
    assert.ok(expected.length >= 5, expected.join(", "));
    const summaryFile = join(repo, "summary.md");

    const gh = await ghRun(ghCheck(), repo);
    assert.equal(gh.code, 0, show(gh));
    const report = junitCases(readFileSync(join(repo, "reports", "dags-check.xml"), "utf8"));
    assert.deepEqual(report.cases.map((c) => c.name).sort(), expected);
    assert.deepEqual([report.tests, report.failures], [expected.length, 0]);
    assert.ok(report.cases.every((c) => c.failure === undefined));

    const shown = await ghRun(ghSummary(), repo);
    assert.equal(shown.code, 0, show(shown));
    assert.doesNotMatch(shown.stdout, /::error/);
    const summary = readFileSync(summaryFile, "utf8");
    assert.match(summary, new RegExp(`${expected.length} of ${expected.length} DAG file\\(s\\) passed`));
    for (const f of expected) assert.ok(summary.includes(`| ✅ | \`${f}\` |  |`), `${f} missing from\n${summary}`);

    rmSync(join(repo, "reports"), { recursive: true });
    const jenkins = await jenkinsRun(repo);
    assert.equal(jenkins.code, 0, show(jenkins));
    assert.deepEqual(junitCases(readFileSync(join(repo, "reports", "dags-check.xml"), "utf8")).cases.map((c) => c.name).sort(), expected);
  });

  it("a broken DAG file fails the step, and the report, the summary and an annotation name it", async () => {
    const repo = userRepo("broken", { "hello.ts": read("examples/dags/hello.ts"), "broken.ts": BROKEN_DAG });
    const summaryFile = join(repo, "summary.md");

    const gh = await ghRun(ghCheck(), repo);
    assert.notEqual(gh.code, 0, show(gh));
    assert.match(gh.stdout, /FAIL {2}broken\.ts:4/);
    const report = junitCases(readFileSync(join(repo, "reports", "dags-check.xml"), "utf8"));
    assert.deepEqual([report.tests, report.failures], [2, 1]);
    const broken = report.cases.find((c) => c.name === "broken.ts");
    assert.match(broken?.failure ?? "", /broken\.ts does not compile: Expected &quot;\)&quot; but found &quot;;&quot;/);
    assert.equal(report.cases.find((c) => c.name === "hello.ts")?.failure, undefined);

    const shown = await ghRun(ghSummary(), repo);
    assert.equal(shown.code, 0, show(shown));
    assert.match(shown.stdout, /^::error file=dags\/broken\.ts,line=4,title=sluice dags check::broken\.ts does not compile: Expected "\)" but found ";"/m);
    const summary = readFileSync(summaryFile, "utf8");
    assert.match(summary, /1 of 2 DAG file\(s\) passed/);
    assert.match(summary, /\| ❌ \| `broken\.ts` \| broken\.ts does not compile: Expected "\)" but found ";"/);
    assert.ok(summary.includes("| ✅ | `hello.ts` |  |"), summary);

    rmSync(join(repo, "reports"), { recursive: true });
    const jenkins = await jenkinsRun(repo);
    assert.notEqual(jenkins.code, 0, show(jenkins));
    assert.deepEqual(junitCases(readFileSync(join(repo, "reports", "dags-check.xml"), "utf8")).failures, 1);
  });
});

describe("deploy/ci: the sync call, run for real against a local API", () => {
  const token = "slc_test_0123456789abcdef";
  let jenkinsSync = "";
  let jenkinsEnv: Record<string, string> = {};
  let work = "";
  before(async () => {
    const [p] = await parseGroovy([join(REPO_ROOT, JENKINSFILE)]);
    jenkinsSync = callsIn(p.statements!, "sh").map((c) => constArg(c) ?? "").find((s) => s.includes("/sync")) ?? "";
    assert.ok(jenkinsSync, "no sh step calls the sync endpoint");
    const variable = constOf(mapArg(callsIn(p.statements!, "string").find((c) => "credentialsId" in mapArg(c))!).variable)!;
    jenkinsEnv = { ...jenkinsParams(p), API_URL: apiUrl, [variable]: token };
    work = join(tmp, "sync");
    mkdirSync(work, { recursive: true });
  });
  const ghSync = () => stepThatRuns("sync", /curl/).run as string;
  const ghSyncEnv = (vars: Any, secrets: Any) => ciEnv({ ...githubEnv("sync", stepThatRuns("sync", /curl/), { vars, secrets }), GITHUB_SHA: "0123abc" });
  const expectOneSync = (bundle: string) => {
    assert.deepEqual(seen.splice(0), [{ method: "POST", url: `/api/v1/bundles/${bundle}/sync`, authorization: `Bearer ${token}` }]);
  };

  it("GitHub: 2xx passes and prints the answer; 404 fails and prints it; a missing URL or token fails before any request", async () => {
    seen.length = 0;
    const env = ghSyncEnv({ SLUICE_URL: `${apiUrl}/`, SLUICE_BUNDLE: "ml-pipelines" }, { SLUICE_SYNC_TOKEN: token });
    answer = { status: 202, body: '{"requested":true,"bundle":"ml-pipelines"}' };
    const ok = await githubBash(ghSync(), work, env);
    assert.equal(ok.code, 0, show(ok));
    assert.match(ok.stdout, /\{"requested":true,"bundle":"ml-pipelines"\}\nHTTP 202/);
    expectOneSync("ml-pipelines");

    answer = { status: 404, body: '{"error":{"code":"BUNDLE_NOT_FOUND","message":"No bundle \\"ml-pipelines\\" is configured (configured: pipelines)."}}' };
    const missing = await githubBash(ghSync(), work, env);
    assert.notEqual(missing.code, 0, show(missing));
    assert.ok(missing.stdout.includes(answer.body), show(missing));
    expectOneSync("ml-pipelines");

    const noUrl = await githubBash(ghSync(), work, ghSyncEnv({}, { SLUICE_SYNC_TOKEN: token }));
    assert.notEqual(noUrl.code, 0);
    assert.match(noUrl.stderr, /Set the repository variable SLUICE_URL/);
    const noToken = await githubBash(ghSync(), work, ghSyncEnv({ SLUICE_URL: apiUrl }, {}));
    assert.notEqual(noToken.code, 0);
    assert.match(noToken.stderr, /Set the repository secret SLUICE_SYNC_TOKEN/);
    assert.deepEqual(seen, []);
  });

  it("Jenkins: 2xx passes and prints the answer; 403 fails the build, prints the answer and says why", async () => {
    seen.length = 0;
    const env = ciEnv(jenkinsEnv);
    answer = { status: 202, body: '{"requested":true,"bundle":"pipelines"}' };
    const ok = await jenkinsSh(jenkinsSync, work, env);
    assert.equal(ok.code, 0, show(ok));
    assert.match(ok.stdout, /Sluice answered HTTP 202:\n\{"requested":true,"bundle":"pipelines"\}/);
    expectOneSync("pipelines");

    answer = { status: 403, body: '{"error":{"code":"FORBIDDEN","message":"User \\"ci\\" has the role viewer; this needs operator or higher."}}' };
    const denied = await jenkinsSh(jenkinsSync, work, env);
    assert.equal(denied.code, 1, show(denied));
    assert.ok(denied.stdout.includes(`Sluice answered HTTP 403:\n${answer.body}`), show(denied));
    assert.match(denied.stderr, /The sync request failed \(HTTP 403\)\. .*403: its user needs the operator role/);
    expectOneSync("pipelines");
  });
});
