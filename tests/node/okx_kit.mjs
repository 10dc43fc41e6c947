// Spawns okx-auth-mcp-bin the way OKX's agent trade kit spawns its okx-auth binary
// (packages/core/src/auth/okx-auth-bin.ts): `token` with stdio [ignore, ignore, inherit, pipe], the token
// read from fd 3 to EOF; `status --json` run synchronously, logged in when its status is "logged_in".
// `token-pipe` is the kit's Windows path (packages/core/src/auth/binary-windows.ts): it listens on a pipe,
// names it in OKX_AUTH_TOKEN_PIPE, spawns with stdio [ignore, ignore, inherit] and reads the connection to EOF;
// on POSIX the pipe is a UNIX socket, as the kit's own tests run that path.
// Usage: node okx_kit.mjs BIN token|token-pipe|status [SOCKET]. Prints one JSON line for the Python test.
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:net";

const [bin, command, socketPath] = process.argv.slice(2);

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

function tokenPipe() {
  return new Promise((resolve) => {
    const chunks = [];
    let code;
    let ended = false;
    let connected = false;
    const server = createServer((socket) => {
      connected = true;
      socket.on("data", (chunk) => chunks.push(chunk));
      socket.on("end", () => { ended = true; finish(); });
    });
    const finish = () => {
      if (code === undefined || (connected && !ended)) return;
      server.close();
      resolve({ code, token: Buffer.concat(chunks).toString("utf-8").trim(), stdout: "" });
    };
    server.listen(socketPath, () => {
      const child = spawn(bin, ["token"], {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, OKX_AUTH_TOKEN_PIPE: socketPath },
      });
      child.on("error", (err) => resolve({ error: err.message }));
      child.on("close", (exit) => { code = exit; finish(); });
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

const answer = command === "token" ? await token() : command === "token-pipe" ? await tokenPipe() : status();
process.stdout.write(JSON.stringify(answer) + "\n");
