/* tern/tokenizer.h - byte-level BPE as Llama 3 (and GPT-2 style checkpoints) tokenize.
 *
 * ternc converts a checkpoint's tokenizer.json into tensors of the weights blob (below), so the
 * runtime parses no JSON:
 *   tokenizer.vocab    U8  every token's bytes, concatenated (byte-level characters decoded)
 *   tokenizer.offsets  I64 [V + 1] token t is vocab[offsets[t], offsets[t + 1])
 *   tokenizer.merges   I32 [M, 3] (left, right, merged) token ids, by rank (row 0 merges first)
 *   tokenizer.special  I32 [S] added tokens, matched in text before pre-tokenization
 *   tokenizer.pattern  U8  the pre-tokenizer's regex (PCRE2 syntax, UTF-8 + Unicode properties)
 *   tokenizer.config   I64 [4] ignore_merges, the BOS id the post-processor adds (-1: none),
 *                      the EOS id (-1: none), the format version (1)
 * Encoding: the text is split at added tokens; each other span is cut into pieces by the
 * pattern (matches and the gaps between them); a piece that is a whole token stays one when
 * ignore_merges is set; otherwise its bytes are merged pair by pair, lowest rank first (the
 * leftmost pair among equal ranks). Decoding concatenates the tokens' bytes. */
#ifndef TERN_TOKENIZER_H
#define TERN_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "tern/model.h"
#include "tern/weight_blob.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_TOKENIZER_VERSION 1

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
 * for an id outside the vocabulary. A token may end inside a UTF-8 character: stream output
 * by decoding whole sequences, or hold back incomplete characters. */
int64_t tern_tokenizer_decode(const tern_tokenizer *tokenizer, const int32_t *ids, int64_t n,
                              char *out, size_t capacity);

/* The length of the longest prefix of text[0, n) that does not end inside a UTF-8 character
 * (what a stream may print before the next token's bytes arrive): n, unless the text ends with
 * a lead byte and fewer continuation bytes than it announces. */
size_t tern_utf8_whole_prefix(const char *text, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* TERN_TOKENIZER_H */
