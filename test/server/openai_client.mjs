// The official OpenAI Node SDK (npm "openai") against the tern server: runs the calls listed in
// a JSON file and prints what the SDK made of the answers, for server_test.py to check.
//   node openai_client.mjs <node_modules dir> <base URL> <calls.json>
// A call: {"api": "models" | "completions" | "chat" | "embeddings", "body": {...}}; with
// "stream": true in the body, the SDK's stream is read to its end. Errors are caught as the
// SDK's APIError. The SDK asks for embeddings in base64 unless the body names a format, and
// decodes them itself.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const [modules, baseURL, callsFile] = process.argv.slice(2);
const require = createRequire(path.join(modules, "noop.js"));
const { default: OpenAI } = await import(require.resolve("openai"));
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });

async function run(call) {
  try {
    if (call.api === "models") {
      const page = await client.models.list();
      return { ids: page.data.map((m) => m.id) };
    }
    if (call.api === "embeddings") {
      const answer = await client.embeddings.create(call.body);
      return { vectors: answer.data.map((d) => Array.from(d.embedding)),
               indices: answer.data.map((d) => d.index), usage: answer.usage,
               model: answer.model };
    }
    const api = call.api === "chat" ? client.chat.completions : client.completions;
    const answer = await api.create(call.body);
    if (!call.body.stream) {
      const choice = answer.choices[0];
      return { text: call.api === "chat" ? choice.message.content : choice.text,
               finish_reason: choice.finish_reason, usage: answer.usage };
    }
    let text = "", finish = null, usage = null, chunks = 0;
    for await (const chunk of answer) {
      ++chunks;
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        text += (call.api === "chat" ? choice.delta.content : choice.text) ?? "";
        finish = choice.finish_reason ?? finish;
      }
    }
    return { text, finish_reason: finish, usage, chunks };
  } catch (e) {
    if (!(e instanceof OpenAI.APIError)) return { exception: String(e) };
    return { status: e.status, type: e.type, code: e.code, param: e.param, message: e.message };
  }
}

const calls = JSON.parse(readFileSync(callsFile, "utf8"));
const results = [];
for (const call of calls) results.push(await run(call));
console.log(JSON.stringify(results));
