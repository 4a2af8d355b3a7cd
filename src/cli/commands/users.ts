import type { Command } from "commander";
import { ROLES } from "../../auth/roles.js";
import { createToken, createUser, deleteUser, listUsers, parseRole } from "../../auth/users.js";
import { globals, withStore } from "../context.js";
import { iso, print, table } from "../format.js";

/** `users create|list|delete|token`: accounts and API tokens for the REST API. */
export function registerUsers(program: Command): void {
  const users = program.command("users").description("Users of the REST API and web UI, and their API tokens");

  users
    .command("create <username>")
    .description(`Create a user (roles: ${ROLES.join(", ")}); without --password a random one is printed once`)
    .requiredOption("--role <role>", `${ROLES.join(" | ")}`)
    .option("--password <password>", "at least 8 characters (default: a random one, printed once)")
    .addHelpText("after", "\nExample:\n  $ sluice users create ana --role operator")
    .action(async (username: string, opts: { role: string; password?: string }, cmd: Command) => {
      const g = globals(cmd);
      const role = parseRole(opts.role);
      await withStore(g, async (store) => {
        const { user, password, generated } = await createUser(store, { username, role, password: opts.password });
        print(!!g.json, { username: user.username, role: user.role, ...(generated ? { password } : {}) }, () =>
          generated
            ? `Created ${user.role} "${user.username}". Password (shown once, store it now):\n\n  ${password}\n`
            : `Created ${user.role} "${user.username}".`,
        );
      });
    });

  users
    .command("list")
    .description("List users with their role and number of API tokens")
    .addHelpText("after", "\nExample:\n  $ sluice users list --json")
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const rows = await listUsers(store);
        print(!!g.json, rows.map((r) => ({ username: r.username, role: r.role, tokens: r.tokens, createdAt: new Date(Number(r.created_at)).toISOString() })), () =>
          table(rows.map((r) => ({ username: r.username, role: r.role, tokens: r.tokens, created: iso(Number(r.created_at)) }))),
        );
      });
    });

  users
    .command("delete <username>")
    .description("Delete a user; its API tokens and sessions stop working at once")
    .addHelpText("after", "\nExample:\n  $ sluice users delete ana")
    .action(async (username: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        await deleteUser(store, username);
        print(!!g.json, { deleted: username }, () => `Deleted user "${username}" with its tokens and sessions.`);
      });
    });

  users
    .command("token <username>")
    .description("Create an API token for scripts (Authorization: Bearer <token>); printed once, stored only as a hash")
    .option("--name <name>", "what the token is for", "cli")
    .addHelpText("after", '\nExample:\n  $ TOKEN=$(sluice users token ana --name nightly-report --json | jq -r .token)\n  $ curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/dags')
    .action(async (username: string, opts: { name: string }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const { token, user } = await createToken(store, username, opts.name);
        print(!!g.json, { username: user.username, role: user.role, name: opts.name, token }, () =>
          `API token "${opts.name}" for ${user.role} "${user.username}" (shown once, store it now):\n\n  ${token}\n`,
        );
      });
    });
}
