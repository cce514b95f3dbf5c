// The official OpenAI Node SDK (npm "openai") reading the tern server's log probabilities, for
// logprobs_test.py to compare with its HTTP answers:
//   node logprobs_client.mjs <node_modules dir> <base URL> <requests.json>
// requests.json: {"chat": body, "completion": body, "error": body}. The chat body is sent
// as it is and streamed (the chunks' logprobs.content concatenated), the completion body as it
// is, and the error body as a chat request expected to fail (caught as the SDK's APIError).
// Prints one JSON object: {chat, chat_stream, completion, error}.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const [modules, baseURL, requestsFile] = process.argv.slice(2);
const require = createRequire(path.join(modules, "noop.js"));
const { default: OpenAI } = await import(require.resolve("openai"));
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
const requests = JSON.parse(readFileSync(requestsFile, "utf8"));

async function caught(call) {
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof OpenAI.APIError)) return { exception: String(e) };
    return { bad_request: e instanceof OpenAI.BadRequestError, status: e.status, type: e.type,
             code: e.code, param: e.param, message: e.message,
             error_message: e.error?.message };
  }
}

const out = {};
out.chat = await caught(async () => {
  const answer = await client.chat.completions.create(requests.chat);
  const choice = answer.choices[0];
  return { content: choice.message.content, finish_reason: choice.finish_reason,
           logprobs: choice.logprobs };
});
out.chat_stream = await caught(async () => {
  const stream = await client.chat.completions.create({ ...requests.chat, stream: true });
  let content = "", finish = null, chunks = 0;
  const logprobs = [];
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? "";
      finish = choice.finish_reason ?? finish;
      if (choice.logprobs?.content) {
        ++chunks;
        logprobs.push(...choice.logprobs.content);
      }
    }
  }
  return { content, finish_reason: finish, logprobs, chunks_with_logprobs: chunks };
});
out.completion = await caught(async () => {
  const answer = await client.completions.create(requests.completion);
  const choice = answer.choices[0];
  return { text: choice.text, finish_reason: choice.finish_reason, logprobs: choice.logprobs,
           completion_tokens: answer.usage.completion_tokens };
});
out.error = await caught(async () => {
  const answer = await client.chat.completions.create(requests.error);
  return { exception: "no error: " + JSON.stringify(answer) };
});
console.log(JSON.stringify(out));
