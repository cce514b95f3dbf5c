#!/usr/bin/python3
"""check_help_matches_docs.py HELP_TEXT DOCS_MD [SECTION]

Fails, listing the differences, unless the options printed by `TOOL --help` (HELP_TEXT; the tool
is named by its USAGE line) are exactly the options in the option table of the `## TOOL` section
of DOCS_MD (rows starting with `--name` or `-o`). SECTION names the `## ` section when it is not
the tool's name (the compiled executable, whose name is the model's)."""

import re
import sys

GENERIC = {"--help", "--help-list", "--version"}


def help_options(text):
    found = set()
    for line in text.splitlines():
        m = re.match(r"^  (-{1,2}[A-Za-z0-9][A-Za-z0-9-]*)", line)
        if m:
            found.add(m.group(1))
    return found - GENERIC


def doc_options(text, tool):
    section = re.split(r"(?m)^## ", text)
    body = next((s for s in section if s.split("\n", 1)[0].strip() == tool), None)
    if body is None:
        sys.exit("no '## %s' section in the docs" % tool)
    return set(re.findall(r"(?m)^\| `(-{1,2}[A-Za-z0-9][A-Za-z0-9-]*)", body)) - GENERIC


def main(help_path, docs_path, section=None):
    with open(help_path) as f:
        text = f.read()
    usage = re.search(r"(?im)^USAGE: (\S+)", text)
    if not usage:
        sys.exit("no USAGE line in %s" % help_path)
    tool = usage.group(1)
    have = help_options(text)
    with open(docs_path) as f:
        documented = doc_options(f.read(), section or tool)
    ok = True
    for o in sorted(have - documented):
        print("%s --help has %s, which docs do not describe" % (tool, o))
        ok = False
    for o in sorted(documented - have):
        print("docs describe %s, which %s --help does not have" % (o, tool))
        ok = False
    if ok:
        print("%s: %d options, all documented" % (tool, len(have)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
