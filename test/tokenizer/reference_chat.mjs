// reference_chat.mjs - the independent chat-template renderer of the tests: Hugging Face's
// transformers.js (npm @huggingface/transformers, which renders with @huggingface/jinja).
//
//   node reference_chat.mjs TOKENIZER_JSON TOKENIZER_CONFIG_JSON REQUESTS_JSON OUT_JSON
//       answers each request of the list:
//         {"messages": [...], "add_generation_prompt": b}: the text apply_chat_template renders
//             and the ids it tokenizes that text to ({tokenize: true}: no special tokens
//             added, those written in the text recognized), or {"error": message} when the
//             template raises;
//         {"encode": text}: {"ids": [...]} as apply_chat_template tokenizes;
//         {"encode_special": text}: {"ids": [...]} with the special tokens the tokenizer adds;
//         {"decode": [ids]}: {"text": ...}, special tokens kept.
import { PreTrainedTokenizer } from "@huggingface/transformers";
import fs from "node:fs";

const [tokenizerPath, configPath, requestsPath, outPath] = process.argv.slice(2);
const tokenizer = new PreTrainedTokenizer(JSON.parse(fs.readFileSync(tokenizerPath, "utf8")),
                                          JSON.parse(fs.readFileSync(configPath, "utf8")));
const requests = JSON.parse(fs.readFileSync(requestsPath, "utf8"));
const out = requests.map((r) => {
  if (r.encode !== undefined)
    return { ids: tokenizer.encode(r.encode, { add_special_tokens: false }) };
  if (r.encode_special !== undefined)
    return { ids: tokenizer.encode(r.encode_special, { add_special_tokens: true }) };
  if (r.decode !== undefined)
    return { text: tokenizer.decode(r.decode, { skip_special_tokens: false,
                                                clean_up_tokenization_spaces: false }) };
  const { messages, add_generation_prompt } = r;
  try {
    const text = tokenizer.apply_chat_template(messages, { add_generation_prompt,
                                                           tokenize: false });
    const ids = tokenizer.apply_chat_template(messages, { add_generation_prompt, tokenize: true,
                                                          return_tensor: false });
    const list = Array.isArray(ids) ? ids : ids.input_ids; // v4 returns {input_ids, ...}
    return { text, ids: Array.from(list, Number) };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
});
fs.writeFileSync(outPath, JSON.stringify(out));
