import { parseArgs } from "node:util";
import type {
  ApiKeyRecord,
  LedgerEntry,
  NodeRepository,
  TeamRecord,
} from "../store/repositories.js";
import { TeamError, type TeamService } from "../teams/service.js";
import { printable, terminalJson } from "../text/printable.js";

export const USAGE = `Usage: npm run admin -- <command> [options]

Teams
  team create <name>                    create a team
  team list                             every team with its balance and limit
  team show <team>                      balance, limit, keys, live sessions, recent ledger
  team limit <team> <n|default>         concurrent browser sessions allowed to the team

API keys
  key create <team> [--name <label>]    a new key, shown this once only
  key list <team>                       the team's keys (their prefixes, never the keys)
  key revoke <key-id>                   the key stops working at once

Browser profiles
  profile list <team>                   the team's saved profiles (names, sizes, in use)
  profile delete <team> <name>          removes one (not while a session writes it)

Credits
  credits grant <team> <amount> [--note <text>]
  credits ledger <team> [--limit <n>]   newest first (default 50)

Nodes (servers sharing one Postgres database, NODE_URL set)
  drain <node-id>                       the node starts no new session, finishes its live
                                        ones (at most DRAIN_SECONDS) and exits; it notices
                                        at its next heartbeat

<team> is a team's name or id. --json prints JSON instead of text.
Reads DATA_DIR or DATABASE_URL like the server, so it works on the server's own database.`;

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A mistake in the command line itself: the usage is shown with it. */
class UsageError extends Error {}

/**
 * Runs one admin command; `connect` opens the team service only once the command line is
 * understood. Never throws for an operator's mistake: the result says what went wrong.
 */
export async function runAdmin(
  argv: string[],
  connect: () => Promise<TeamService>,
  connectNodes?: () => Promise<NodeRepository>,
): Promise<CommandResult> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: "boolean", default: false },
        name: { type: "string" },
        note: { type: "string" },
        limit: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    return { code: 2, stdout: "", stderr: `${printable((err as Error).message)}\n\n${USAGE}\n` };
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    return {
      code: values.help ? 0 : 2,
      stdout: values.help ? `${USAGE}\n` : "",
      stderr: values.help ? "" : `${USAGE}\n`,
    };
  }
  try {
    const out =
      positionals[0] === "drain"
        ? await drainNode(positionals.slice(1), connectNodes)
        : await dispatch(positionals, values, connect);
    // Names come from tenants (profiles) and from whoever typed them: nothing they hold may
    // drive the operator's terminal or forge a row.
    const text = values.json ? terminalJson(out.json) : out.text;
    return { code: 0, stdout: `${text}\n`, stderr: "" };
  } catch (err) {
    if (err instanceof UsageError) {
      return { code: 2, stdout: "", stderr: `${printable(err.message)}\n\n${USAGE}\n` };
    }
    if (err instanceof TeamError) {
      return { code: 1, stdout: "", stderr: `${printable(err.message)}\n` };
    }
    throw err;
  }
}

type Values = { name?: string; note?: string; limit?: string };

const COMMANDS = new Set([
  "team create",
  "team list",
  "team show",
  "team limit",
  "key create",
  "key list",
  "key revoke",
  "credits grant",
  "credits ledger",
  "profile list",
  "profile delete",
]);

async function dispatch(
  args: string[],
  values: Values,
  connect: () => Promise<TeamService>,
): Promise<{ text: string; json: unknown }> {
  const [group, action, ...rest] = args;
  if (!COMMANDS.has(`${group} ${action}`)) {
    throw new UsageError(`Unknown command: ${args.join(" ")}`);
  }
  const teams = await connect();
  const want = (n: number, shape: string) => {
    if (rest.length !== n) throw new UsageError(`Expected: ${group} ${action} ${shape}`);
    return rest;
  };
  switch (`${group} ${action}`) {
    case "team create": {
      const [name] = want(1, "<name>");
      const team = await teams.createTeam(name!);
      return {
        text: t`Created team ${team.name} (${team.id}). Next: npm run admin -- key create ${team.name}`,
        json: team,
      };
    }
    case "team list": {
      want(0, "");
      const list = await teams.listTeams();
      const rows = await Promise.all(list.map((t) => teams.report(t.name, 0)));
      return {
        text: rows.length
          ? table(
              ["team", "id", "available", "reserved", "max sessions"],
              rows.map((r) => [
                r.team.name,
                r.team.id,
                String(r.balance.available),
                String(r.balance.reserved),
                limitText(r.team, r.maxSessions),
              ]),
            )
          : "No teams yet. Create one with: npm run admin -- team create <name>",
        json: rows.map((r) => ({
          ...r.team,
          balance: r.balance,
          effectiveMaxSessions: r.maxSessions,
        })),
      };
    }
    case "team show": {
      const [ref] = want(1, "<team>");
      const r = await teams.report(ref!);
      const text = [
        t`Team ${r.team.name} (${r.team.id})`,
        `Credits: ${r.balance.available} available, ${r.balance.reserved} reserved by live sessions`,
        `Session limit: ${limitText(r.team, r.maxSessions)}`,
        "",
        `Keys (${r.keys.length}):`,
        r.keys.length ? indent(keyTable(r.keys)) : "  none",
        "",
        `Live sessions (${r.liveSessions.length}):`,
        r.liveSessions.length
          ? indent(
              table(
                ["session", "scrape", "status", "node", "started", "prompt"],
                r.liveSessions.map((s) => [
                  s.id,
                  s.scrapeId,
                  s.status,
                  s.nodeId,
                  iso(s.createdAt),
                  s.usedPrompt ? "yes" : "no",
                ]),
              ),
            )
          : "  none",
        "",
        `Ledger (newest ${r.ledger.length}):`,
        r.ledger.length ? indent(ledgerTable(r.ledger)) : "  empty",
      ].join("\n");
      return { text, json: r };
    }
    case "team limit": {
      const [ref, raw] = want(2, "<team> <n|default>");
      const max = raw === "default" ? null : wholeNumber(raw!, "limit");
      const team = await teams.setMaxSessions(ref!, max);
      return {
        text: t`Team ${team.name}: at most ${max === null ? "the server's default (TEAM_MAX_SESSIONS)" : max} concurrent sessions.`,
        json: team,
      };
    }
    case "key create": {
      const [ref] = want(1, "<team>");
      const { key, record } = await teams.createKey(ref!, values.name ?? null);
      return {
        text: [
          t`Created key ${record.id} for team ${ref}:`,
          "",
          `  ${key}`,
          "",
          "It is shown only now; store it safely. Clients send it as 'Authorization: Bearer <key>'.",
        ].join("\n"),
        json: { ...record, key },
      };
    }
    case "key list": {
      const [ref] = want(1, "<team>");
      const keys = await teams.listKeys(ref!);
      return { text: keys.length ? keyTable(keys) : "No keys.", json: keys };
    }
    case "key revoke": {
      const [id] = want(1, "<key-id>");
      await teams.revokeKey(id!);
      return { text: t`Revoked ${id}.`, json: { id, revoked: true } };
    }
    case "credits grant": {
      const [ref, raw] = want(2, "<team> <amount>");
      const balance = await teams.grant(ref!, wholeNumber(raw!, "amount"), values.note ?? null);
      return {
        text: t`Granted ${raw} credits to ${ref}: ${balance.available} available, ${balance.reserved} reserved.`,
        json: balance,
      };
    }
    case "credits ledger": {
      const [ref] = want(1, "<team>");
      const limit = values.limit === undefined ? 50 : wholeNumber(values.limit, "--limit");
      const r = await teams.report(ref!, limit);
      return {
        text: r.ledger.length ? ledgerTable(r.ledger) : "The ledger is empty.",
        json: r.ledger,
      };
    }
    case "profile list": {
      const [ref] = want(1, "<team>");
      const profiles = await teams.listProfiles(ref!);
      return {
        text: profiles.length
          ? table(
              ["name", "bytes", "saved", "in use"],
              profiles.map((p) => [
                p.name,
                String(p.size),
                p.updatedAt === null ? "never" : iso(p.updatedAt),
                p.inUse ? "yes" : "no",
              ]),
            )
          : "No profiles.",
        json: profiles,
      };
    }
    case "profile delete": {
      const [ref, name] = want(2, "<team> <name>");
      await teams.deleteProfile(ref!, name!);
      return { text: t`Deleted profile ${name}.`, json: { name, deleted: true } };
    }
    default:
      throw new UsageError(`Unknown command: ${args.join(" ")}`);
  }
}

/** Sets a node's draining flag in the nodes table; the node picks it up at its next heartbeat. */
async function drainNode(
  rest: string[],
  connectNodes: (() => Promise<NodeRepository>) | undefined,
): Promise<{ text: string; json: unknown }> {
  if (rest.length !== 1) throw new UsageError("Expected: drain <node-id>");
  if (!connectNodes) throw new TeamError("This database has no nodes table.");
  const [nodeId] = rest;
  const nodes = await connectNodes();
  if (!(await nodes.setDraining(nodeId!, true))) {
    throw new TeamError(
      t`No node ${nodeId} has published itself in this database (servers join with NODE_URL).`,
    );
  }
  return {
    text: t`Node ${nodeId} drains from its next heartbeat: no new sessions, then it exits.`,
    json: { node: nodeId, draining: true },
  };
}

/** A template whose every interpolated value is shown with its control characters escaped. */
function t(parts: TemplateStringsArray, ...values: unknown[]): string {
  return parts.reduce((out, part, i) => out + printable(String(values[i - 1])) + part);
}

function wholeNumber(raw: string, what: string): number {
  if (!/^\d{1,12}$/.test(raw))
    throw new TeamError(`The ${what} must be a whole number, not "${raw}".`);
  return Number(raw);
}

function limitText(team: TeamRecord, effective: number): string {
  return team.maxSessions === null ? `${effective} (server default)` : String(team.maxSessions);
}

function keyTable(keys: ApiKeyRecord[]): string {
  return table(
    ["id", "prefix", "name", "created", "revoked"],
    keys.map((k) => [
      k.id,
      `${k.prefix}…`,
      k.name ?? "",
      iso(k.createdAt),
      k.revokedAt === null ? "" : iso(k.revokedAt),
    ]),
  );
}

function ledgerTable(entries: LedgerEntry[]): string {
  return table(
    ["at", "kind", "amount", "session", "scrape", "note"],
    entries.map((e) => [
      iso(e.at),
      e.kind,
      e.amount > 0 ? `+${e.amount}` : String(e.amount),
      e.sessionId ?? "",
      e.scrapeId ?? "",
      e.note ?? "",
    ]),
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function indent(text: string): string {
  return text.replace(/^/gm, "  ");
}

function table(head: string[], cells: string[][]): string {
  const rows = cells.map((row) => row.map(printable));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}
