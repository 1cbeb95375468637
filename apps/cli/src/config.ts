/**
 * Where the console is and which API token to use: flags (--console, --token), then the environment
 * (TRELLIS_CONSOLE, TRELLIS_TOKEN), then the config file ($TRELLIS_CONFIG, else
 * $XDG_CONFIG_HOME/trellis/config.json, else ~/.config/trellis/config.json: `{"console": "...", "token": "..."}`).
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { type Args, flag, UsageError } from "./args.ts";

export interface Target {
  console: string;
  token: string;
}

export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRELLIS_CONFIG) return env.TRELLIS_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "trellis", "config.json");
}

function fromFile(file: string): Partial<Target> {
  if (!existsSync(file)) return {};
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    return { console: typeof v.console === "string" ? v.console : undefined, token: typeof v.token === "string" ? v.token : undefined };
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

export function resolveTarget(args: Args, env: NodeJS.ProcessEnv = process.env): Target {
  const file = configFile(env);
  const saved = fromFile(file);
  const consoleUrl = flag(args, "console") || env.TRELLIS_CONSOLE || saved.console;
  const token = flag(args, "token") || env.TRELLIS_TOKEN || saved.token;
  if (!consoleUrl) throw new UsageError(`no console: pass --console <url>, set TRELLIS_CONSOLE or write it to ${file}`);
  if (!token) throw new UsageError(`no API token: pass --token, set TRELLIS_TOKEN or write it to ${file} (Settings → API tokens)`);
  return { console: consoleUrl.replace(/\/+$/, ""), token };
}
