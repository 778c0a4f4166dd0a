#!/usr/bin/env python3
"""gen-roundtrip.py --seed N [--count 200] OUTDIR

Generates the round-trip bundles for tests/vm/cases/roundtrip.sh: OUTDIR/NAME/config.json
for NAME = ovm-rt-000 ... plus the expected payload output next to it:
  OUTDIR/NAME/expect.argv  the whole argv, each string followed by NUL
  OUTDIR/NAME/expect.env   the environment, sorted bytewise, each followed by NUL
and OUTDIR/names (one name a line) and OUTDIR/seed.

Each bundle's args are ["/usr/local/libexec/ovm-dump", "/home/dev/ovm/rt-out/NAME", random...]:
the payload writes what it got into that directory.  Strings are drawn from printable ASCII,
non-ASCII Unicode (Latin, Greek, Cyrillic, CJK, emoji, combining marks) and the characters that
need escaping on the way through a unit file: % $ ' " \\ ; space newline.  Same seed, same
bundles (Python's random is stable across versions for these calls).
"""
import argparse
import json
import os
import random

DUMP = "/usr/local/libexec/ovm-dump"
OUTROOT = "/home/dev/ovm/rt-out"

SPECIAL = list("%$'\"\\; \n") + ["%%", "$$", "${HOME}", "$HOME", "%n", "%h", "\\n", "\\x41", "\\\\"]
NON_ASCII = list("éßøñüÅæœ€£¥§µ¿¡«»—–…‘’“”") + list("αβγΩжЖщЯ中文日本語한국어") + [
    "\U0001F980", "\U0001F600", "\u0301", "\u200b", "\u00a0", "\ufeff", "\U0010FFFD", "\u2028",
]
# Whole-argument edge cases (systemd treats some of these specially in ExecStart=).
WHOLE = ["", ";", "\\;", "-", "--", "-h", "--help", "@", "+", "!", "!!", ":", "|", "&&", ">",
         " ", "\n", "%", "$", "'", '"', "\\", "\\\\", "a b", "${X}", "$X", "%%n", "--leaf", "--env"]


def rand_char(r):
    x = r.random()
    if x < 0.55:
        return chr(r.randint(0x20, 0x7E))
    if x < 0.80:
        return r.choice(SPECIAL)
    if x < 0.92:
        return r.choice(NON_ASCII)
    # random code points from a few blocks (no surrogates, no controls)
    lo, hi = r.choice([(0xA1, 0x2FF), (0x370, 0x4FF), (0x4E00, 0x9FFF), (0x1F300, 0x1F5FF),
                       (0xAC00, 0xD7A3)])
    return chr(r.randint(lo, hi))


def rand_string(r, maxlen=24):
    if r.random() < 0.12:
        return r.choice(WHOLE)
    n = r.randint(0, maxlen)
    return "".join(rand_char(r) for _ in range(n))


def rand_name(r, used):
    first = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
    rest = first + "0123456789"
    while True:
        n = first[r.randrange(len(first))] + "".join(
            rest[r.randrange(len(rest))] for _ in range(r.randint(0, 11)))
        if n not in used:
            used.add(n)
            return n


def nul(strings):
    return b"".join(s.encode("utf-8") + b"\0" for s in strings)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("outdir")
    a = ap.parse_args()
    r = random.Random(a.seed)
    os.makedirs(a.outdir, exist_ok=True)
    names = []
    for i in range(a.count):
        name = "ovm-rt-%03d" % i
        names.append(name)
        args = [DUMP, "%s/%s" % (OUTROOT, name)]
        args += [rand_string(r) for _ in range(r.randint(0, 8))]
        used = set()
        env = ["%s=%s" % (rand_name(r, used), rand_string(r)) for _ in range(r.randint(0, 8))]
        # Every tenth bundle: long strings.
        if i % 10 == 9:
            args.append("".join(rand_char(r) for _ in range(300)))
            env.append("%s=%s" % (rand_name(r, used), "".join(rand_char(r) for _ in range(300))))
        config = {
            "ociVersion": "1.2.0",
            "process": {
                "user": {"uid": 0, "gid": 0},
                "args": args,
                "env": env,
                "cwd": "/",
            },
        }
        d = os.path.join(a.outdir, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=(i % 2 == 0), indent=2)
            f.write("\n")
        with open(os.path.join(d, "expect.argv"), "wb") as f:
            f.write(nul(args))
        with open(os.path.join(d, "expect.env"), "wb") as f:
            f.write(b"".join(sorted(s.encode("utf-8") + b"\0" for s in env)))
    with open(os.path.join(a.outdir, "names"), "w") as f:
        f.write("\n".join(names) + "\n")
    with open(os.path.join(a.outdir, "seed"), "w") as f:
        f.write("%d\n" % a.seed)


if __name__ == "__main__":
    main()
