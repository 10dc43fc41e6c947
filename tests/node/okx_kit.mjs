// Spawns okx-auth-mcp-bin the way OKX's agent trade kit spawns its okx-auth binary
// (packages/core/src/auth/okx-auth-bin.ts): `token` with stdio [ignore, ignore, inherit, pipe], the token
// read from fd 3 to EOF; `status --json` run synchronously, logged in when its status is "logged_in".
// Usage: node okx_kit.mjs BIN token|status. Prints one JSON line for the Python test to check.
import { spawn, execFileSync } from "node:child_process";

const [bin, command] = process.argv.slice(2);

function token() {
  return new Promise((resolve) => {
    const child = spawn(bin, ["token"], { stdio: ["ignore", "ignore", "inherit", "pipe"] });
    const chunks = [];
    child.stdio[3].on("data", (chunk) => chunks.push(chunk));
    child.on("error", (err) => resolve({ error: err.message }));
    child.on("close", (code) => {
      // Nothing may reach stdout: it was ignored here, so this reports what the kit itself would see.
      resolve({ code, token: Buffer.concat(chunks).toString("utf-8").trim(), stdout: "" });
    });
  });
}

function status() {
  try {
    const stdout = execFileSync(bin, ["status", "--json"], {
      timeout: 5_000,
      stdio: ["ignore", "pipe", "ignore"],
      encoding: "utf-8",
    });
    return { loggedIn: JSON.parse(stdout).status === "logged_in" };
  } catch {
    return { loggedIn: false };
  }
}

const answer = command === "token" ? await token() : status();
process.stdout.write(JSON.stringify(answer) + "\n");
