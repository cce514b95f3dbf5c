// The server's request checking (openai_request.h), its JSON answers (openai_response.h) and
// the text it streams (text_output.h): every error names its field the way the OpenAI API does.
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/text_output.h"
#include "server/tokenize.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace tern::server;
using json = nlohmann::json;

namespace {

ApiError refused(const std::string &body, bool chat = false) {
  ApiRequest r;
  ApiError e;
  EXPECT_FALSE(parseApiRequest(body, chat, r, e)) << body;
  return e;
}

ApiRequest accepted(const std::string &body, bool chat = false) {
  ApiRequest r;
  ApiError e;
  EXPECT_TRUE(parseApiRequest(body, chat, r, e)) << body << ": " << e.message;
  return r;
}

} // namespace

TEST(ServerApi, CompletionFields) {
  ApiRequest r = accepted(R"({"model": "m", "prompt": "Hi", "max_tokens": 7, "stream": true,
      "stream_options": {"include_usage": true}, "stop": ["\n", "END"], "temperature": 0.5,
      "top_p": 0.9, "presence_penalty": -1, "frequency_penalty": 1.5, "seed": 42, "n": 1,
      "user": "u", "logit_bias": {}, "logprobs": null, "echo": false, "best_of": 1,
      "suffix": null, "top_k": 5, "min_p": 0.1, "repeat_penalty": 1.1, "repeat_last_n": -1,
      "ignore_eos": true})");
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(*r.promptText, "Hi");
  EXPECT_EQ(*r.maxTokens, 7);
  EXPECT_TRUE(r.stream && r.includeUsage && r.ignoreEos);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"\n", "END"}));
  EXPECT_DOUBLE_EQ(*r.temperature, 0.5);
  EXPECT_DOUBLE_EQ(*r.topP, 0.9);
  EXPECT_DOUBLE_EQ(*r.presencePenalty, -1);
  EXPECT_DOUBLE_EQ(*r.frequencyPenalty, 1.5);
  EXPECT_EQ(*r.seed, 42);
  EXPECT_EQ(*r.topK, 5);
  EXPECT_DOUBLE_EQ(*r.minP, 0.1);
  EXPECT_DOUBLE_EQ(*r.repeatPenalty, 1.1);
  EXPECT_EQ(*r.repeatLastN, -1);
}

TEST(ServerApi, NullMeansTheDefault) {
  ApiRequest r = accepted(R"({"prompt": "x", "max_tokens": null, "temperature": null,
                               "stop": null, "stream": null})");
  EXPECT_FALSE(r.maxTokens);
  EXPECT_FALSE(r.temperature);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_FALSE(r.stream);
}

TEST(ServerApi, PromptForms) {
  EXPECT_EQ(*accepted(R"({"prompt": ["one"]})").promptText, "one");
  EXPECT_EQ(accepted(R"({"prompt": [1, 2, 3]})").promptTokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(accepted(R"({"prompt": [[4, 5]]})").promptTokens, (std::vector<int32_t>{4, 5}));
  ApiError e = refused(R"({"prompt": ["a", "b"]})");
  EXPECT_EQ(e.code, "unsupported_value");
  EXPECT_EQ(e.param, "prompt");
  e = refused(R"({"prompt": [1, -2]})");
  EXPECT_EQ(e.param, "prompt[1]");
  EXPECT_EQ(e.message, "Invalid 'prompt[1]': expected a value >= 0, but got -2 instead.");
  e = refused(R"({"prompt": [1, "x"]})");
  EXPECT_EQ(e.message, "Invalid type for 'prompt[1]': expected an integer, but got a string "
                       "instead.");
  EXPECT_EQ(refused(R"({"prompt": []})").code, "invalid_type");
  EXPECT_EQ(refused(R"({"prompt": null})").code, "invalid_type");
}

TEST(ServerApi, UnknownFieldsAreRefusedByName) {
  ApiError e = refused(R"({"prompt": "x", "foo": 1})");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.message, "Unrecognized request argument supplied: foo");
  EXPECT_EQ(e.param, "foo");
  EXPECT_EQ(e.code, "unknown_parameter");
  // Fields of the other endpoint are unknown here.
  EXPECT_EQ(refused(R"({"prompt": "x", "messages": []})").param, "messages");
  EXPECT_EQ(refused(R"({"messages": [{"role": "user", "content": "x"}], "echo": false})", true)
                .param,
            "echo");
  // And inside objects.
  EXPECT_EQ(refused(R"({"prompt": "x", "stream": true, "stream_options": {"x": 1}})").param,
            "stream_options.x");
  EXPECT_EQ(refused(R"({"messages": [{"role": "user", "content": "x", "tool_calls": []}]})", true)
                .param,
            "messages[0].tool_calls");
}

TEST(ServerApi, BadJsonNamesWhere) {
  ApiError e = refused(R"({"prompt": "x",)");
  EXPECT_EQ(e.code, "invalid_json");
  EXPECT_NE(e.message.find("We could not parse the JSON body of your request: parse error at "
                           "line 1, column 16"),
            std::string::npos)
      << e.message;
  EXPECT_EQ(refused("[1, 2]").message, "The request body must be a JSON object, but got an "
                                       "array.");
  EXPECT_EQ(refused("").code, "invalid_json");
  EXPECT_EQ(refused("{\"prompt\": \"\xff\"}").code, "invalid_json"); // not UTF-8
  e = refused(R"({"prompt": "x", "temperature": 2.5e999})");                // out of range
  EXPECT_EQ(e.code, "invalid_json");
  EXPECT_NE(e.message.find("number overflow"), std::string::npos) << e.message;
}

TEST(ServerApi, TypesAndRanges) {
  struct Case {
    const char *body, *param, *message;
  } cases[] = {
      {R"({"prompt": "x", "max_tokens": "5"})", "max_tokens",
       "Invalid type for 'max_tokens': expected an integer, but got a string instead."},
      {R"({"prompt": "x", "max_tokens": 1.5})", "max_tokens",
       "Invalid type for 'max_tokens': expected an integer, but got a decimal instead."},
      {R"({"prompt": "x", "max_tokens": -1})", "max_tokens",
       "Invalid 'max_tokens': expected a value >= 0, but got -1 instead."},
      {R"({"prompt": "x", "max_tokens": 99999999999999999999})", "max_tokens",
       "Invalid 'max_tokens': expected a value <= 2147483647, but got 1e+20 instead."},
      {R"({"prompt": "x", "temperature": 3})", "temperature",
       "Invalid 'temperature': expected a value in [0, 2], but got 3 instead."},
      {R"({"prompt": "x", "top_p": -0.1})", "top_p",
       "Invalid 'top_p': expected a value in [0, 1], but got -0.1 instead."},
      {R"({"prompt": "x", "stream": "yes"})", "stream",
       "Invalid type for 'stream': expected a boolean, but got a string instead."},
      {R"({"prompt": "x", "stop": ["a", 1]})", "stop[1]",
       "Invalid type for 'stop[1]': expected a string, but got an integer instead."},
      {R"({"prompt": "x", "stop": ["a", "b", "c", "d", "e"]})", "stop",
       "Invalid 'stop': expected at most 4 sequences, but got 5 instead."},
      {R"({"prompt": "x", "repeat_penalty": 0})", "repeat_penalty",
       "Invalid 'repeat_penalty': expected a positive value, but got 0 instead."},
      {R"({"prompt": "x", "stream_options": {"include_usage": true}})", "stream_options",
       "Invalid 'stream_options': stream_options is only allowed when 'stream' is true."},
      {R"({"max_tokens": 3})", "prompt", "Missing required parameter: 'prompt'."},
      {R"({"prompt": "x", "logprobs": 6})", "logprobs",
       "Invalid 'logprobs': expected a value <= 5, but got 6 instead."},
      {R"({"prompt": "x", "logprobs": -1})", "logprobs",
       "Invalid 'logprobs': expected a value >= 0, but got -1 instead."},
      {R"({"prompt": "x", "logprobs": true})", "logprobs",
       "Invalid type for 'logprobs': expected an integer, but got a boolean instead."},
      {R"({"prompt": "x", "echo": 1})", "echo",
       "Invalid type for 'echo': expected a boolean, but got an integer instead."},
  };
  for (const Case &c : cases) {
    ApiError e = refused(c.body);
    EXPECT_EQ(e.param, c.param) << c.body;
    EXPECT_EQ(e.message, c.message) << c.body;
    EXPECT_EQ(e.status, 400);
  }
}

TEST(ServerApi, LogprobFields) {
  ApiRequest r = accepted(R"({"prompt": [1, 2], "logprobs": 5, "echo": true, "max_tokens": 0})");
  EXPECT_EQ(*r.logprobs, 5);
  EXPECT_TRUE(r.echo);
  EXPECT_EQ(*r.maxTokens, 0);
  r = accepted(R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true,
                   "top_logprobs": 20})",
               true);
  EXPECT_TRUE(r.chatLogprobs);
  EXPECT_EQ(*r.topLogprobs, 20);
  struct Case {
    const char *body, *param, *message;
  } cases[] = {
      {R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2})", "top_logprobs",
       "Invalid 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used."},
      {R"({"messages": [{"role": "user", "content": "x"}], "logprobs": false,
           "top_logprobs": 2})",
       "top_logprobs",
       "Invalid 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used."},
      {R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true,
           "top_logprobs": 21})",
       "top_logprobs", "Invalid 'top_logprobs': expected a value <= 20, but got 21 instead."},
      {R"({"messages": [{"role": "user", "content": "x"}], "logprobs": 1})", "logprobs",
       "Invalid type for 'logprobs': expected a boolean, but got an integer instead."},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0})", "max_tokens",
       "Invalid 'max_tokens': expected a value >= 1, but got 0 instead."},
      {R"({"messages": [{"role": "user", "content": "x"}], "echo": true})", "echo",
       "Unrecognized request argument supplied: echo"},
  };
  for (const Case &c : cases) {
    ApiError e = refused(c.body, true);
    EXPECT_EQ(e.param, c.param) << c.body;
    EXPECT_EQ(e.message, c.message) << c.body;
    EXPECT_EQ(e.status, 400);
  }
}

TEST(ServerApi, FieldsOnlyAtTheirDefault) {
  for (const char *body : {R"({"prompt": "x", "n": 2})", R"({"prompt": "x", "best_of": 3})",
                           R"({"prompt": "x", "suffix": "s"})",
                           R"({"prompt": "x", "logit_bias": {"5": 1}})"}) {
    ApiError e = refused(body);
    EXPECT_EQ(e.code, "unsupported_value") << body;
  }
  for (const char *body :
       {R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]})",
        R"({"messages": [{"role": "user", "content": "x"}], "response_format":
            {"type": "json_object"}})"})
    EXPECT_EQ(refused(body, true).code, "unsupported_value") << body;
  accepted(R"({"messages": [{"role": "user", "content": "x"}], "logprobs": false, "tools": [],
               "tool_choice": "none", "response_format": {"type": "text"},
               "parallel_tool_calls": true, "max_completion_tokens": 3})",
           true);
}

TEST(ServerApi, Messages) {
  ApiRequest r = accepted(R"({"messages": [
      {"role": "developer", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Hello, "},
                                   {"type": "text", "text": "there"}], "name": "ann"},
      {"role": "assistant", "content": "Hi."}]})",
                          true);
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "Hello, there");
  EXPECT_EQ(r.messages[2].role, "assistant");

  EXPECT_EQ(refused(R"({"messages": []})", true).param, "messages");
  EXPECT_EQ(refused(R"({"messages": {}})", true).code, "invalid_type");
  EXPECT_EQ(refused(R"({"model": "m"})", true).message, "Missing required parameter: "
                                                        "'messages'.");
  ApiError e = refused(R"({"messages": [{"content": "x"}]})", true);
  EXPECT_EQ(e.param, "messages[0].role");
  EXPECT_EQ(e.code, "missing_required_parameter");
  e = refused(R"({"messages": [{"role": "user"}]})", true);
  EXPECT_EQ(e.param, "messages[0].content");
  e = refused(R"({"messages": [{"role": "tool", "content": "x"}]})", true);
  EXPECT_EQ(e.param, "messages[0].role");
  EXPECT_EQ(e.code, "unsupported_value");
  e = refused(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})", true);
  EXPECT_EQ(e.param, "messages[0].content[0].type");
  e = refused(R"({"messages": [{"role": "user", "content": [{"type": "text"}]}]})", true);
  EXPECT_EQ(e.param, "messages[0].content[0].text");
  e = refused(R"({"messages": [{"role": "user", "content": 5}]})", true);
  EXPECT_EQ(e.code, "invalid_type");
}

TEST(ServerApi, ResponsesHaveTheOpenAiShape) {
  Event done;
  done.kind = Event::Kind::Done;
  done.finishReason = "length";
  done.promptTokens = 5;
  done.cachedTokens = 2;
  done.completionTokens = 3;
  ResponseHeader chat{true, "chatcmpl-1", 1700000000, "tiny"};
  Logprobs none;
  json r = json::parse(completionJson(chat, "Hi \xff", done, none));
  EXPECT_TRUE(r["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["model"], "tiny");
  EXPECT_EQ(r["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(r["choices"][0]["message"]["content"], "Hi \xef\xbf\xbd"); // U+FFFD
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(r["usage"]["total_tokens"], 8);
  EXPECT_EQ(r["usage"]["prompt_tokens_details"]["cached_tokens"], 2);

  ResponseHeader text{false, "cmpl-1", 1700000000, "tiny"};
  r = json::parse(completionJson(text, "abc", done, none));
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_EQ(r["choices"][0]["text"], "abc");

  // Stream events: "data: {json}\n\n".
  auto payload = [](const std::string &event) {
    EXPECT_EQ(event.substr(0, 6), "data: ");
    EXPECT_EQ(event.substr(event.size() - 2), "\n\n");
    return json::parse(event.substr(6, event.size() - 8));
  };
  json role = payload(roleChunk(chat));
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(role["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(payload(textChunk(chat, "x", none))["choices"][0]["delta"]["content"], "x");
  EXPECT_EQ(payload(textChunk(text, "x", none))["choices"][0]["text"], "x");
  json finish = payload(finishChunk(chat, done));
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(finish["choices"][0]["delta"].empty());
  json usage = payload(usageChunk(chat, done));
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 3);

  json error = json::parse(errorJson({400, "bad", "invalid_request_error", "top_p", ""}));
  EXPECT_EQ(error["error"]["message"], "bad");
  EXPECT_EQ(error["error"]["param"], "top_p");
  EXPECT_TRUE(error["error"]["code"].is_null());
  json models = json::parse(modelsJson("tiny", 5));
  EXPECT_EQ(models["data"][0]["id"], "tiny");
  EXPECT_EQ(models["data"][0]["object"], "model");
}

TEST(ServerApi, LogprobsInEachEndpointsShape) {
  Event done;
  done.kind = Event::Kind::Done;
  done.finishReason = "length";
  Logprobs l;
  l.requested = true;
  l.tokens.push_back({7, "Hi", std::nullopt, {}}); // an echoed prompt's first token
  l.tokens.push_back({8, " \xc3\xa9", -0.5, {{8, " \xc3\xa9", -0.5}, {9, "x", -1.5}}});
  l.tokens.push_back({9, "\xe2\x82", -2.0, {{8, " \xc3\xa9", -0.25}}}); // a cut character
  ResponseHeader text{false, "cmpl-1", 1700000000, "tiny"};
  json r = json::parse(completionJson(text, "Hi \xc3\xa9\xe2\x82", done, l));
  json p = r["choices"][0]["logprobs"];
  EXPECT_EQ(p["tokens"], json({"Hi", " \xc3\xa9", "bytes:\\xe2\\x82"}));
  EXPECT_EQ(p["token_logprobs"], json({nullptr, -0.5, -2.0}));
  // The alternatives and the token itself ("logprobs + 1"); none before the first token.
  EXPECT_TRUE(p["top_logprobs"][0].is_null());
  EXPECT_EQ(p["top_logprobs"][1], json({{" \xc3\xa9", -0.5}, {"x", -1.5}}));
  EXPECT_EQ(p["top_logprobs"][2], json({{" \xc3\xa9", -0.25}, {"bytes:\\xe2\\x82", -2.0}}));
  // Characters before each token: "Hi" is 2, " é" 2.
  EXPECT_EQ(p["text_offset"], json({0, 2, 4}));
  EXPECT_EQ(l.textOffset, 5);

  ResponseHeader chat{true, "chatcmpl-1", 1700000000, "tiny"};
  l.tokens.erase(l.tokens.begin());
  r = json::parse(completionJson(chat, " \xc3\xa9\xe2\x82", done, l));
  json content = r["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 2u);
  EXPECT_EQ(content[0]["token"], " \xc3\xa9");
  EXPECT_EQ(content[0]["logprob"], -0.5);
  EXPECT_EQ(content[0]["bytes"], json({32, 0xc3, 0xa9}));
  EXPECT_EQ(content[0]["top_logprobs"][1],
            json({{"token", "x"}, {"logprob", -1.5}, {"bytes", json::array({120})}}));
  EXPECT_EQ(content[1]["bytes"], json({0xe2, 0x82}));
  EXPECT_TRUE(r["choices"][0]["logprobs"]["refusal"].is_null());

  // A stream's chunks carry their own tokens; the offsets continue.
  Logprobs s;
  s.requested = true;
  s.tokens = {{1, "ab", -1.0, {}}};
  json first = json::parse(textChunk(text, "ab", s).substr(6));
  s.tokens = {{2, "c", -1.0, {}}};
  json second = json::parse(textChunk(text, "c", s).substr(6));
  EXPECT_EQ(first["choices"][0]["logprobs"]["text_offset"], json::array({0}));
  EXPECT_EQ(second["choices"][0]["logprobs"]["text_offset"], json::array({2}));
  EXPECT_EQ(second["choices"][0]["logprobs"]["tokens"], json::array({"c"}));
}

TEST(ServerText, WholeCharactersOnly) {
  TextOutput out;
  EXPECT_EQ(out.add("a\xe2\x82"), "a"); // the euro sign's first two bytes wait
  EXPECT_EQ(out.add("\xac!"), "\xe2\x82\xac!");
  EXPECT_EQ(out.add("\xf0\x9f"), "");
  EXPECT_EQ(out.finish(), "\xf0\x9f"); // cut by the end: sent as it is
  EXPECT_EQ(out.add("\x80\x80"), "\x80\x80"); // stray continuation bytes wait for nothing
}

TEST(ServerText, StopSequencesAcrossTokens) {
  TextOutput out({"END", "\n\n"});
  EXPECT_EQ(out.add("abc E"), "abc "); // "E" may begin END
  EXPECT_EQ(out.add("N"), "");
  EXPECT_EQ(out.add("x"), "ENx"); // it did not
  EXPECT_EQ(out.add("yE"), "y");
  EXPECT_EQ(out.add("ND and more"), "");
  EXPECT_TRUE(out.stopped());
  EXPECT_EQ(out.add("after"), "");
  EXPECT_EQ(out.finish(), "");

  TextOutput first({"bc", "b"});
  EXPECT_EQ(first.add("abc"), "a"); // the earliest stop wins
  TextOutput held({"\n\n"});
  EXPECT_EQ(held.add("x\n"), "x");
  EXPECT_EQ(held.finish(), "\n"); // the end: what was held is sent
}

TEST(ServerApi, TokenizeRequests) {
  TokenizeRequest t;
  ApiError e;
  ASSERT_TRUE(parseTokenizeRequest(R"({"content": "Hi", "add_special": true,
                                       "with_pieces": true})",
                                   t, e))
      << e.message;
  EXPECT_EQ(t.content, "Hi");
  EXPECT_TRUE(t.addSpecial && t.parseSpecial && t.withPieces);
  EXPECT_FALSE(parseTokenizeRequest(R"({"add_special": true})", t, e));
  EXPECT_EQ(e.message, "Missing required parameter: 'content'.");
  EXPECT_FALSE(parseTokenizeRequest(R"({"content": 5})", t, e));
  EXPECT_EQ(e.param, "content");
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_FALSE(parseTokenizeRequest(R"({"content": "x", "add_bos": true})", t, e));
  EXPECT_EQ(e.message, "Unrecognized request argument supplied: add_bos");
  std::vector<int32_t> ids;
  ASSERT_TRUE(parseDetokenizeRequest(R"({"tokens": [1, 2, 3]})", ids, e));
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_FALSE(parseDetokenizeRequest(R"({"tokens": [1, -2]})", ids, e));
  EXPECT_EQ(e.param, "tokens[1]");
  EXPECT_FALSE(parseDetokenizeRequest(R"({"tokens": "1"})", ids, e));
  EXPECT_EQ(e.param, "tokens");

  std::vector<std::string> pieces = {"a", "\xe2\x82"};
  json r = json::parse(tokenizeJson({5, 6}, &pieces));
  EXPECT_EQ(r["tokens"][0], json({{"id", 5}, {"piece", "a"}}));
  EXPECT_EQ(r["tokens"][1]["piece"], json::array({0xe2, 0x82}));
  EXPECT_EQ(json::parse(tokenizeJson({5, 6}, nullptr))["tokens"], json::array({5, 6}));
  EXPECT_EQ(json::parse(detokenizeJson("ab"))["content"], "ab");
}
