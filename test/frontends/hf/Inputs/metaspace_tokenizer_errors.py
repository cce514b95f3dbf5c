"""Writes the malformed metaspace tokenizers of tokenizer-metaspace-errors.test: each a copy of
the generated checkpoint in DIR/ok with one field of tokenizer.json changed."""
import copy
import json
import shutil
import sys

d = sys.argv[1]
with open(d + "/ok/tokenizer.json", encoding="utf-8") as f:
    base = json.load(f)
meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first",
        "split": False}


def case(name, change):
    shutil.copytree(d + "/ok", d + "/" + name)
    j = copy.deepcopy(base)
    change(j)
    with open(d + "/" + name + "/tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)


case("nfc", lambda j: j["normalizer"]["normalizers"].insert(0, {"type": "NFC"}))
case("noreplace", lambda j: j["normalizer"]["normalizers"].pop())
case("both", lambda j: j.update(pre_tokenizer=meta))
case("bytelevel", lambda j: j.update(normalizer=None, pre_tokenizer={
    "type": "ByteLevel", "add_prefix_space": False, "use_regex": True}))
case("scheme", lambda j: j.update(normalizer=None,
                                   pre_tokenizer=dict(meta, prepend_scheme="sometimes")))
case("replacement", lambda j: j.update(normalizer=None, pre_tokenizer=dict(meta, replacement="_")))
case("decoder", lambda j: j.update(decoder={"type": "ByteLevel"}))
case("strip2", lambda j: j["decoder"]["decoders"][3].update(start=2))
case("unk", lambda j: j["model"].update(unk_token="<nope>"))
case("metadecoder", lambda j: j.update(decoder=dict(meta, type="Metaspace")))
# <s> may be normalized (the normalizer leaves it as it is); a token with a space may not.
case("normalized", lambda j: (j["added_tokens"][1].update(normalized=True),
                              j["added_tokens"].append(dict(j["added_tokens"][1], id=600,
                                                            content="two words"))))
