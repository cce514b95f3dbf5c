/* tern/tokenizer.h - the BPE tokenizers of Hugging Face's tokenizer.json: byte-level (Llama 3,
 * GPT-2 style) and metaspace with byte fallback (Llama 2, SentencePiece converted).
 *
 * ternc converts a checkpoint's tokenizer.json into tensors of the weights blob (below), so the
 * runtime parses no JSON:
 *   tokenizer.vocab    U8  every token's bytes, concatenated (byte-level: the characters decoded
 *                      to bytes; metaspace: the vocabulary's text as is, "\u2581" and "<0x0A>")
 *   tokenizer.offsets  I64 [V + 1] token t is vocab[offsets[t], offsets[t + 1])
 *   tokenizer.merges   I32 [M, 3] (left, right, merged) token ids, by rank (row 0 merges first)
 *   tokenizer.special  I32 [S] added tokens, matched in text before pre-tokenization
 *   tokenizer.pattern  U8  the pre-tokenizer's regex (PCRE2 syntax, UTF-8 + Unicode properties)
 *   tokenizer.config   I64 [10] ignore_merges, the BOS id the post-processor adds (-1: none),
 *                      the EOS id (-1: none), the format version (2), the kind (0 byte-level,
 *                      1 metaspace), the metaspace prepend rule (TERN_PREPEND_*), the leading
 *                      spaces the decoder strips from a whole text (0 or 1), the unknown
 *                      token (-1: none), fuse_unk, byte_fallback
 * Encoding: the text is split at added tokens. Metaspace first normalizes each other span:
 * spaces become U+2581 ("\u2581") and a U+2581 is put in front as the prepend rule says. Each
 * span is cut into pieces by the pattern (matches and the gaps between them). A piece that is a
 * whole token stays one when ignore_merges is set; otherwise it starts as single symbols and
 * pairs are merged by rank, lowest first (the leftmost pair among equal ranks). The symbols:
 * byte-level, the piece's bytes; metaspace, its characters, a character outside the vocabulary
 * as its bytes' <0xXX> tokens (byte_fallback) or as the unknown token (consecutive ones fused
 * with fuse_unk). Decoding concatenates the tokens' bytes (metaspace: U+2581 as a space, <0xXX>
 * as its byte). */
#ifndef TERN_TOKENIZER_H
#define TERN_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "tern/model.h"
#include "tern/weight_blob.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_TOKENIZER_VERSION 2

/* Where metaspace puts a U+2581 in front of a span (one without added tokens). */
enum {
  TERN_PREPEND_NEVER = 0,
  TERN_PREPEND_ALWAYS = 1,      /* every non-empty span (a Prepend normalizer) */
  TERN_PREPEND_UNLESS_THERE = 2, /* every span not starting with one (Metaspace "always") */
  TERN_PREPEND_FIRST = 3,        /* the span at the text's start, unless it starts with one
                                  * (Metaspace "first") */
};

typedef struct tern_tokenizer tern_tokenizer;

/* The tokenizer stored in `blob` (which must outlive it), allocating through `allocator` (NULL:
 * the C library's; copied). Returns 0, or -1 with a message that names the tensor that is
 * missing or malformed. */
int tern_tokenizer_open(const tern_blob *blob, const tern_allocator *allocator,
                        tern_tokenizer **out, char *error, size_t error_size);
void tern_tokenizer_free(tern_tokenizer *tokenizer);

int64_t tern_tokenizer_vocab_size(const tern_tokenizer *tokenizer);
/* The post-processor's BOS token (-1: none) and the end-of-text token (-1: none). */
int32_t tern_tokenizer_bos(const tern_tokenizer *tokenizer);
int32_t tern_tokenizer_eos(const tern_tokenizer *tokenizer);
/* The id of the token whose bytes are exactly `text` (an added token such as "<|eot_id|>"),
 * or -1. */
int32_t tern_tokenizer_find(const tern_tokenizer *tokenizer, const char *text, size_t size);

/* Tokens of `text` (UTF-8, `size` bytes): with `add_bos`, the BOS token first; with
 * `parse_special`, added tokens written in the text become their ids (otherwise they are plain
 * text). Writes at most `capacity` ids and returns how many the text has (call again with more
 * room when larger), or -1 with a message (invalid UTF-8, naming the byte offset). */
int64_t tern_tokenizer_encode(const tern_tokenizer *tokenizer, const char *text, size_t size,
                              int add_bos, int parse_special, int32_t *ids, int64_t capacity,
                              char *error, size_t error_size);

/* The bytes of tokens `ids` into `out` (at most `capacity`); returns how many there are, or -1
 * for an id outside the vocabulary. The tokens' pieces, concatenated: what a continuation of
 * earlier text prints. A token may end inside a UTF-8 character: stream output by decoding
 * whole sequences, or hold back incomplete characters. */
int64_t tern_tokenizer_decode(const tern_tokenizer *tokenizer, const int32_t *ids, int64_t n,
                              char *out, size_t capacity);
/* The same for a whole text, as the tokenizer's decoder turns it back: the leading space a
 * metaspace tokenizer prepended is stripped (its decoder's Strip). */
int64_t tern_tokenizer_decode_text(const tern_tokenizer *tokenizer, const int32_t *ids,
                                   int64_t n, char *out, size_t capacity);

/* The length of the longest prefix of text[0, n) that does not end inside a UTF-8 character
 * (what a stream may print before the next token's bytes arrive): n, unless the text ends with
 * a lead byte and fewer continuation bytes than it announces. */
size_t tern_utf8_whole_prefix(const char *text, size_t n);
/* The offset of the first byte of text[0, n) that is not valid UTF-8 (RFC 3629: no overlong
 * forms, surrogates or code points past U+10FFFF), or n. */
size_t tern_utf8_invalid_at(const char *text, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* TERN_TOKENIZER_H */
