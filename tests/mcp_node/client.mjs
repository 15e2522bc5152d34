// Drives bin/orchestrator_mcp with the official MCP TypeScript SDK and prints one JSON report.
// Agents run on the offline path (direct), except two Claude runs against the test's Anthropic
// double: a slow one, cancelled once it has sent progress and the test (which sees the double)
// writes a line on our stdin to say the run has reached the model; then a quick one.
// Started by tests/api/test_mcp_node_client.py:
//   node client.mjs stdio <python> <bin/orchestrator_mcp>     (the server's environment is ours)
//   node client.mjs http <url> [bearer key]
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createInterface } from "node:readline";

function transportFrom(argv) {
  const [mode, ...rest] = argv;
  if (mode === "stdio") {
    const [command, script] = rest;
    return new StdioClientTransport({ command, args: [script], env: process.env, stderr: "inherit" });
  }
  if (mode === "http") {
    const [url, key] = rest;
    const headers = key ? { Authorization: `Bearer ${key}` } : {};
    return new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  }
  throw new Error(`unknown mode ${mode}: use stdio or http`);
}

async function call(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  return { isError: result.isError === true, structured: result.structuredContent, text: result.content[0].text };
}

async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return { code: error.code ?? null, message: String(error.message) };
  }
}

const client = new Client({ name: "orchestrator-node-test", version: "1.0.0" });
await client.connect(transportFrom(process.argv.slice(2)));
const report = { server: client.getServerVersion(), calls: {} };

const { tools } = await client.listTools();
report.tools = tools.map((t) => ({
  name: t.name,
  annotations: t.annotations ?? null,
  required: t.inputSchema.required ?? [],
  hasOutputSchema: Boolean(t.outputSchema),
}));

report.calls.route_task = await call(client, "route_task", { task: "Check CPU usage on the server", auto_select: true });
report.calls.list_agents = await call(client, "list_agents", { category: "database" });
report.calls.agent_info = await call(client, "agent_info", { agent: "vps-monitor" });
report.calls.workforce_stats = await call(client, "workforce_stats", {});
report.calls.execute_agent = await call(client, "execute_agent", {
  agent: "vps-monitor",
  query: "What is the load average?",
  direct: true,
});
report.calls.smart_execute = await call(client, "smart_execute", { task: "Show me server health metrics", direct: true });
report.calls.unknown_agent = await call(client, "execute_agent", { agent: "no-such-agent", query: "hello" });
report.calls.wrong_type = await call(client, "route_task", { task: ["not", "text"] });
report.unknown_tool = await failure(client.callTool({ name: "no_such_tool", arguments: {} }));

const { resources } = await client.listResources();
report.resources = resources.map((r) => r.uri);
const agent = await client.readResource({ uri: "orchestrator://agents/vps-monitor" });
report.agent_resource = JSON.parse(agent.contents[0].text);
report.missing_resource = await failure(client.readResource({ uri: "orchestrator://agents/no-such-agent" }));
const prompt = await client.getPrompt({ name: "ask_fibreflow", arguments: { task: "How many active contractors?" } });
report.prompt = prompt.messages[0].content.text;

// A slow run: wait for its first progress notification, then abort it (the SDK sends notifications/cancelled).
const controller = new AbortController();
const progress = [];
let progressed;
const firstProgress = new Promise((resolve) => (progressed = resolve));
const slow = client.callTool({ name: "execute_agent", arguments: { agent: "vps-monitor", query: "Is the load high?" } }, undefined, {
  signal: controller.signal,
  onprogress: (update) => {
    progress.push(update);
    progressed();
  },
});
await firstProgress;
const stdin = createInterface({ input: process.stdin });
await new Promise((resolve) => stdin.once("line", resolve));
stdin.close();
controller.abort("the user pressed stop");
report.cancelled = await failure(slow);
report.progress = progress;
report.after_cancel = await call(client, "execute_agent", { agent: "vps-monitor", query: "How full is the disk?" });

await client.close();
process.stdout.write(JSON.stringify(report) + "\n");
