#!/usr/bin/env python3
"""--perplexity and --kl-divergence of a compiled model against the numpy reference.

A generated checkpoint is compiled twice by ternc (the head as the checkpoint stores it, and
--head=q8_0). Checked:
  * --perplexity -f TEXT (the binary's own tokens, read back with --verbose-prompt) and
    --perplexity --tokens with an odd chunk length and --chunks, each writing its scored logits
    with --kl-divergence-base: the printed running estimates, final perplexity and +/- are
    llama-perplexity's estimate computed here from those logits (within the printed digits);
    the base file holds the chunks as llama-perplexity runs them (BOS first); and the logits
    equal the reference's (bitnet_reference.py, float64) per position within 1e-3 relative, the
    estimate over them within 1e-4 relative of the reference's own (bitnet_reference.py
    --perplexity). Where the reference saw an activation within 1e-4 of a .5 rounding tie at or
    before a position (float32 and float64 may round it differently: a tie flip, which moves
    everything after it in the chunk through attention), the position may differ by up to 5e-2
    and is printed; such positions are left out of the 1e-4 comparison, and how far the whole
    estimate then is from the reference's is printed too. At least half the positions must
    come before any flip (bf16 embedding rows holding an element exactly half their largest
    make exact ties: the checkpoints' seed is chosen in CMakeLists.txt so that few do);
  * --kl-divergence of the binary against its own --kl-divergence-base: KL 0, top-1 100 %,
    PPL(Q) - PPL(base) 0;
  * the q8_0 head against the exact head's base: mean KL divergence, top-1 agreement and
    PPL(Q) - PPL(base) as computed here from the two binaries' logits (within the printed
    digits), and the mean KL within 5 % of the reference's for the same two heads (tie flips in
    either run move single positions);
  * errors: a text shorter than one chunk, --kl-divergence without a base, a truncated base, a
    base of another vocabulary, -c against the base's chunk length, --chunks alone.

  perplexity_test.py --ternc B --gen-checkpoint G --work DIR [--format F] [--target T]
      [--seed N] [--run "qemu-aarch64 ..."]
"""
import argparse
import json
import math
import os
import re
import shlex
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import bitnet_reference as ref  # noqa: E402

failures = []


def check(condition, message):
    print(("ok: " if condition else "FAIL: ") + message, flush=True)
    if not condition:
        failures.append(message)
    return condition


def run(cmd, expect_ok=True):
    print("+ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if expect_ok and result.returncode != 0:
        sys.exit("FAILED: exit status %d:\n%s%s" % (result.returncode, result.stdout,
                                                   result.stderr))
    return result


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def parse_perplexity(stdout):
    """(running estimates, final, error) from llama-perplexity's output."""
    running = [float(v) for v in re.findall(r"\[\d+\]([0-9.]+),", stdout)]
    m = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", stdout)
    if not m:
        sys.exit("FAILED: no final estimate in:\n" + stdout)
    return running, float(m.group(1)), float(m.group(2))


def parse_kl(stdout):
    """The summary lines of --kl-divergence as {name: value} (the first number of each)."""
    values = {}
    for line in stdout.splitlines():
        m = re.match(r"^([^:]+?)\s*:\s*(-?[0-9.]+)", line)
        if m:
            values[m.group(1).strip()] = float(m.group(2))
    return values


TOLERANCE = 1e-3       # per position: max |tern - reference| / max |reference| (logits)
TIE_DISTANCE = 1e-4    # a quantized activation this close to a .5 tie may round either way
FLIP_TOLERANCE = 5e-2  # what a tie flip does to the logits after it (compiled_model_test.py)


def read_base(path):
    """(n_ctx, vocab, tokens [chunks][n_ctx], logits [chunks][scored][vocab]) of a base file."""
    data = open(path, "rb").read()
    assert data[:8] == b"TERNKLD1", path
    n_ctx, vocab, chunks = np.frombuffer(data, dtype="<i8", count=3, offset=8)
    tokens = np.frombuffer(data, dtype="<i4", count=chunks * n_ctx, offset=32)
    scored = n_ctx - 1 - n_ctx // 2
    logits = np.frombuffer(data, dtype="<f4", offset=32 + 4 * chunks * n_ctx)
    return (int(n_ctx), int(vocab), tokens.reshape(chunks, n_ctx),
            logits.reshape(chunks, scored, vocab).astype(np.float64))


def estimate(nll):
    """llama-perplexity's estimate and its +/- from negative log likelihoods."""
    nll = np.asarray(nll)
    ppl = math.exp(nll.mean())
    return ppl, ppl * math.sqrt(max(nll.var(), 0.0) / (len(nll) - 1))


def verify_perplexity(label, stdout, base_path, model_dir, stream, bos, clean_fraction):
    """The printed estimate against the binary's own logits (its base file), and those logits
    against the reference's per position."""
    running, final, error = parse_perplexity(stdout)
    n_ctx, _, tokens, logits = read_base(base_path)
    chunks, first = len(tokens), n_ctx // 2
    expected = [list(stream[c * n_ctx:(c + 1) * n_ctx]) for c in range(chunks)]
    for chunk in expected:
        if bos is not None:
            chunk[0] = bos
    check(len(running) == chunks and tokens.tolist() == expected,
          "%s: %d chunks, their tokens as llama-perplexity runs them (the BOS first)" % (
              label, chunks))
    model = ref.Model(model_dir)
    nll_tern, nll_ref, clean_tern, clean_ref, flips, worst = [], [], [], [], [], 0.0
    for c, chunk in enumerate(expected):
        lt = ref.log_softmax(logits[c])
        reference = model.forward(chunk)
        ties = np.minimum.accumulate(model.ties)  # the closest tie at or before each position
        lr = ref.log_softmax(reference[first:n_ctx - 1])
        flipped = False  # a position of this chunk differed: those after it may too
        for j in range(first, n_ctx - 1):
            row = j - first
            nt, nr = -lt[row, chunk[j + 1]], -lr[row, chunk[j + 1]]
            nll_tern.append(nt)
            nll_ref.append(nr)
            err = np.max(np.abs(logits[c][row] - reference[j])) / np.max(np.abs(reference[j]))
            flipped |= err > TOLERANCE
            if not flipped:
                clean_tern.append(nt)
                clean_ref.append(nr)
                worst = max(worst, err)
            elif err <= TOLERANCE or (ties[j] < TIE_DISTANCE and err <= FLIP_TOLERANCE):
                flips.append((err, c + 1, j))
            else:
                check(False, "%s: chunk %d position %d: logits %.2e from the reference's "
                      "(tie distance %.1e)" % (label, c + 1, j, err, ties[j]))
        # The running estimate after this chunk, from the binary's own logits.
        got = estimate(nll_tern)[0]
        if relative(running[c], got) > 1e-7 + 5e-5 / got:
            check(False, "%s: chunk %d's running estimate %.4f, its logits give %.6f" % (
                label, c + 1, running[c], got))
    ppl, err = estimate(nll_tern)
    check(relative(final, ppl) <= 1e-7 + 5e-5 / ppl and relative(error, err) <= 1e-6 + 5e-6 / err,
          "%s: PPL = %.4f +/- %.5f is llama-perplexity's estimate of its logits (%.6f +/- %.6f)"
          % (label, final, error, ppl, err))
    print("%s: %d of %d scored positions before any tie flip of their chunk, within %.1e of "
          "the reference's logits" % (label, len(clean_tern), len(nll_tern), worst))
    if flips:
        print("%s: %d positions at or after a tie flip (first: chunk %d position %d; worst "
              "%.2e), within %.0e" % (label, len(flips), flips[0][1], flips[0][2],
                                      max(flips)[0], FLIP_TOLERANCE))
    check(len(clean_tern) >= clean_fraction * len(nll_tern),
          "%s: at least %d %% of the positions before any flip (%d of %d)" % (
              label, 100 * clean_fraction, len(clean_tern), len(nll_tern)))
    if clean_tern:
        clean = relative(estimate(clean_tern)[0], estimate(clean_ref)[0])
        check(clean <= 1e-4, "%s: the estimate over the %d positions before a flip is within "
              "%.1e of the reference's (bound 1e-4)" % (label, len(clean_tern), clean))
    whole = ref.perplexity(model, stream, n_ctx, bos)
    print("%s: the whole estimate %.4f, the reference's %.4f (%.1e relative, from the flips)" % (
        label, final, whole[1], relative(final, whole[1])))
    if not flips:
        check(relative(final, whole[1]) <= 1e-4, "%s: no flip: the estimate within 1e-4 of "
              "the reference's" % label)


def reference_kl(model_dir, tokens, n_ctx, bos):
    """KL(exact || q8_0), top-1 agreement and PPL(q8_0) - PPL(exact) of the reference's two
    heads over llama-perplexity's chunks."""
    exact = ref.Model(model_dir)
    q8 = ref.Model(model_dir, head_format="q8_0")
    kl, same, nll_e, nll_q = [], [], [], []
    first = n_ctx // 2
    for c in range(len(tokens) // n_ctx):
        chunk = list(tokens[c * n_ctx:(c + 1) * n_ctx])
        if bos is not None:
            chunk[0] = bos
        lb = ref.log_softmax(exact.forward(chunk))[first:n_ctx - 1]
        lq = ref.log_softmax(q8.forward(chunk))[first:n_ctx - 1]
        kl.extend((np.exp(lb) * (lb - lq)).sum(axis=1))
        same.extend(np.argmax(lb, axis=1) == np.argmax(lq, axis=1))
        nxt = chunk[first + 1:n_ctx]
        nll_e.extend(-lb[np.arange(len(nxt)), nxt])
        nll_q.extend(-lq[np.arange(len(nxt)), nxt])
    return (float(np.mean(kl)), 100.0 * float(np.mean(same)),
            math.exp(np.mean(nll_q)) - math.exp(np.mean(nll_e)), math.exp(np.mean(nll_e)))


def added_bos(model_dir):
    """The BOS tokenizer.json's post-processor puts first (llama-perplexity's add_bos), or None:
    not config.json's bos_token_id, which a tokenizer may never add (Qwen3), or add without."""
    with open(os.path.join(model_dir, "tokenizer.json")) as f:
        post = json.load(f).get("post_processor") or {}
    for p in post.get("processors", [post]):  # a Sequence of processors, or one
        single = p.get("single") or []
        if single and "SpecialToken" in single[0]:
            return p["special_tokens"][single[0]["SpecialToken"]["id"]]["ids"][0]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ternc", required=True)
    parser.add_argument("--gen-checkpoint", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--format", default="bitnet-2b4t")
    parser.add_argument("--target", default="host")
    parser.add_argument("--run", default="", help="a prefix running the binaries (qemu)")
    parser.add_argument("--seed", type=int, help="tern-gen-checkpoint's --seed")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    model = os.path.join(args.work, "model")
    run([args.gen_checkpoint, "--format", args.format, "--preset=tiny", "--quiet", "-o", model] +
        (["--seed=%d" % args.seed] if args.seed is not None else []))
    prefix = shlex.split(args.run)
    binaries = {}
    for head in ("exact", "q8_0"):
        out = os.path.join(args.work, "model-" + head)
        run([args.ternc, model, "-o", out, "--target", args.target, "--context=128",
             "--head=" + head, "--quiet"])
        binaries[head] = prefix + [out]
    exe = binaries["exact"]
    bos = added_bos(model)

    # A text of ~1200 tokens: words of the tokenizer's corpus in a fixed order.
    words = ("the of and to in is was for on that with by as at from it an be this are or "
             "which his her their model weights ternary token layer head").split()
    text = " ".join(words[(i * 7 + i // 5) % len(words)] for i in range(900))
    text_path = os.path.join(args.work, "text.txt")
    with open(text_path, "w") as f:
        f.write(text)

    # -f: the binary's tokens of the text (BOS first), as --verbose-prompt prints them.
    n_ctx = 64
    base = os.path.join(args.work, "exact.kld")
    result = run(exe + ["--perplexity", "-f", text_path, "-c", str(n_ctx), "--verbose-prompt",
                        "--kl-divergence-base", base])
    ids = [int(t) for t in re.search(r"prompt of \d+ tokens: ([0-9 ]+)",
                                     result.stderr).group(1).split()]
    check(re.search(r"perplexity of .*text.txt: %d tokens, %d chunks of %d" % (
        len(ids), len(ids) // n_ctx, n_ctx), result.stderr) is not None,
        "-f: the progress line names the chunks")
    # 64-token chunks may hold tie flips (see above): their positions are compared one by one.
    verify_perplexity("-f, -c %d" % n_ctx, result.stdout, base, model, ids, bos, 0.5)

    # --tokens, an odd chunk length (c/2 rounds down, as llama-perplexity's), --chunks: chunks
    # of 9 are short enough that most hold no tie flip, so most of the estimate is compared
    # with the reference's within 1e-4.
    odd, count = 9, 60
    stream = ids[5:5 + (count + 1) * odd + 3]
    odd_base = os.path.join(args.work, "odd.kld")
    result = run(exe + ["--perplexity", "--tokens", ",".join(map(str, stream)), "-c", str(odd),
                        "--chunks", str(count), "--quiet", "--kl-divergence-base", odd_base])
    check(result.stderr == "", "--quiet prints nothing on stderr")
    verify_perplexity("--tokens, -c %d --chunks %d" % (odd, count), result.stdout, odd_base,
                      model, stream[:count * odd], bos, 0.5)

    # KL divergence: the binary against itself, then the q8_0 head against the exact one.
    chunks = len(ids) // n_ctx
    scored = n_ctx - 1 - n_ctx // 2
    vocab = ref.Model(model).tensors["model.embed_tokens.weight"][1].shape[0]
    size = os.path.getsize(base)
    check(size == 8 + 24 + 4 * chunks * n_ctx + 4 * chunks * scored * vocab,
          "the base file holds the tokens and %d x %d x %d float32 logits (%d bytes)" % (
              chunks, scored, vocab, size))
    same = parse_kl(run(exe + ["--kl-divergence", "--kl-divergence-base", base]).stdout)
    check(same.get("Mean    KLD") == 0.0 and same.get("Maximum KLD") == 0.0,
          "itself: mean and maximum KL divergence 0 (%s, %s)" % (same.get("Mean    KLD"),
                                                                 same.get("Maximum KLD")))
    check(same.get("Same top p") == 100.0, "itself: top-1 agreement 100 %% (%s)" %
          same.get("Same top p"))
    check(same.get("Mean PPL(Q)-PPL(base)") == 0.0, "itself: PPL(Q) - PPL(base) 0")
    q8 = parse_kl(run(binaries["q8_0"] + ["--kl-divergence", "--kl-divergence-base",
                                          base]).stdout)
    # The same statistics from the two binaries' own logits (the q8_0 binary's base file).
    q8_base = os.path.join(args.work, "q8_0.kld")
    run(binaries["q8_0"] + ["--perplexity", "-f", text_path, "-c", str(n_ctx),
                            "--kl-divergence-base", q8_base, "--quiet"])
    _, _, tokens, base_logits = read_base(base)
    _, _, _, q8_logits = read_base(q8_base)
    lb, lq = ref.log_softmax(base_logits), ref.log_softmax(q8_logits)
    nxt = tokens[:, n_ctx // 2 + 1:]
    pick = lambda l: np.take_along_axis(l, nxt[:, :, None], axis=2)[:, :, 0]
    own_kl = float((np.exp(lb) * (lb - lq)).sum(axis=2).mean())
    own_same = 100.0 * float((lb.argmax(axis=2) == lq.argmax(axis=2)).mean())
    own_dppl = math.exp(-pick(lq).mean()) - math.exp(-pick(lb).mean())
    # The rest of llama-perplexity's statistics from the same logits, against the printed ones
    # (to their printed digits).
    kld = (np.exp(lb) * (lb - lq)).sum(axis=2).ravel()
    nll_b, nll_q = -pick(lb).ravel(), -pick(lq).ravel()
    dp = np.exp(-nll_q) - np.exp(-nll_b)
    stats = {
        "Maximum KLD": (kld.max(), 5e-7), "Median  KLD": (np.percentile(kld, 50), 5e-7),
        "99.0%   KLD": (np.percentile(kld, 99), 5e-7), "Minimum KLD": (kld.min(), 5e-7),
        "Mean ln(PPL(Q)/PPL(base))": ((nll_q - nll_b).mean(), 5e-7),
        "Cor(ln(PPL(Q)), ln(PPL(base)))": (100 * np.corrcoef(nll_q, nll_b)[0, 1], 5e-3),
        "Mean    Δp": (100 * dp.mean(), 5e-4), "90.0%   Δp": (100 * np.percentile(dp, 90), 5e-4),
        "RMS Δp": (100 * math.sqrt((dp * dp).mean()), 5e-4),
        "Mean PPL(Q)": (math.exp(nll_q.mean()), 5e-7 * math.exp(nll_q.mean()) + 5e-7),
    }
    for name, (want, digits) in stats.items():
        check(abs(q8.get(name, float("nan")) - want) <= digits,
              "q8_0: %s %s is its logits' %.8g" % (name, q8.get(name), want))
    want_kl, want_same, want_dppl, want_ppl = reference_kl(model, ids, n_ctx, bos)
    kl = q8.get("Mean    KLD", -1)
    print("q8_0 head against the exact head: mean KL %.6f (its logits: %.8f; the reference's "
          "heads: %.8f), top-1 %.3f %% (%.3f %%; %.3f %%), PPL(Q) - PPL(base) %.6f (%.6f; %.6f)"
          % (kl, own_kl, want_kl, q8.get("Same top p", -1), own_same, want_same,
             q8.get("Mean PPL(Q)-PPL(base)", 0), own_dppl, want_dppl))
    check(kl > 0 and abs(kl - own_kl) <= 5e-7,
          "q8_0: mean KL divergence %.6f is its logits' %.8f" % (kl, own_kl))
    check(abs(q8.get("Same top p", -1) - own_same) <= 5e-4,
          "q8_0: top-1 agreement %.3f %% is its logits' %.3f %%" % (
              q8.get("Same top p", -1), own_same))
    check(abs(q8.get("Mean PPL(Q)-PPL(base)", 1e9) - own_dppl) <= 5e-7 + 1e-9 * want_ppl,
          "q8_0: PPL(Q) - PPL(base) %.6f is its logits' %.6f" % (
              q8.get("Mean PPL(Q)-PPL(base)", 1e9), own_dppl))
    check(abs(kl - want_kl) <= 0.05 * want_kl,
          "q8_0: mean KL divergence %.6f within 5 %% of the reference's heads' %.8f" % (
              kl, want_kl))

    # Errors, by message.
    def refused(cmd, pattern, label):
        r = run(cmd, expect_ok=False)
        check(r.returncode != 0 and re.search(pattern, r.stderr) is not None,
              "%s: exit %d, %r" % (label, r.returncode, r.stderr.strip()[-300:]))

    short = os.path.join(args.work, "short.txt")
    with open(short, "w") as f:
        f.write("the model")
    refused(exe + ["--perplexity", "-f", short], r"short\.txt has \d+ tokens; --perplexity "
            r"needs at least one chunk of 128 \(-c\)", "a text shorter than one chunk")
    refused(exe + ["--kl-divergence"], r"--kl-divergence compares with the logits of "
            r"--kl-divergence-base FILE", "--kl-divergence without a base")
    refused(exe + ["--chunks", "2", "-p", "x"], r"--chunks goes with --perplexity",
            "--chunks alone")
    refused(exe + ["--perplexity", "-f", text_path, "-c", "2"],
            r"--perplexity needs chunks of at least 3 tokens", "-c 2 (nothing to score)")
    refused(exe + ["--kl-divergence", "--kl-divergence-base", base, "-c", "32"],
            r"exact\.kld was written with chunks of 64 tokens \(-c 32 given\)",
            "-c against the base's")
    cut = os.path.join(args.work, "cut.kld")
    with open(base, "rb") as f, open(cut, "wb") as g:
        g.write(f.read()[:size - 100])
    refused(exe + ["--kl-divergence", "--kl-divergence-base", cut],
            r"cut\.kld: %d bytes, but its header \(%d chunks of 64 tokens, vocabulary %d\) "
            r"needs %d" % (size - 100, chunks, vocab, size), "a truncated base")
    with open(cut, "wb") as g:
        g.write(b"GGUF" + bytes(60))
    refused(exe + ["--kl-divergence", "--kl-divergence-base", cut],
            r"cut\.kld: not a tern --kl-divergence-base file", "not a base file")
    # A well-formed base over another vocabulary (one chunk of zeros).
    other = os.path.join(args.work, "other-vocab.kld")
    with open(other, "wb") as g:
        g.write(b"TERNKLD1" + np.array([n_ctx, vocab + 1, 1], dtype="<i8").tobytes())
        g.write(np.array(ids[:n_ctx], dtype="<i4").tobytes())
        g.write(np.zeros(scored * (vocab + 1), dtype="<f4").tobytes())
    refused(exe + ["--kl-divergence", "--kl-divergence-base", other],
            r"other-vocab\.kld holds logits over %d tokens, this model's vocabulary has %d" % (
                vocab + 1, vocab), "a base of another vocabulary")

    if failures:
        sys.exit("FAILED: %d checks:\n  %s" % (len(failures), "\n  ".join(failures)))
    print("PASSED: --perplexity and --kl-divergence (%s, %s) equal the reference's" % (
        args.format, args.target))


if __name__ == "__main__":
    main()
