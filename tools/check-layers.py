#!/usr/bin/env python3
"""The layering check (docs/architecture.md): every file under daemon/ and
include/careclock/ includes only from its own layer or the layers below it,
and the pure core includes no I/O library.

  tools/check-layers.py [ROOT]      (ROOT: the repository, default: here)

Layers, lowest first: util, core, config, store, notify, http; then the two
programs, cli (careclock) and daemon (careclockd), which may include any
library layer but not each other. A file's layer is its folder under
daemon/; a public header include/careclock/NAME.h belongs to the layer of
the folder that holds NAME.c. An include names its layer: "util/grow.h" is
util, "careclock/store.h" is store's.

Exit 0 when every include is allowed; otherwise 1, with one line per
offending include: FILE:LINE: what it includes and why that is refused.
A plain script over #include lines: no compiler, no new dependency.
"""
import os
import re
import sys

LAYERS = ["util", "core", "config", "store", "notify", "http", "cli", "daemon"]
RANK = {name: i for i, name in enumerate(LAYERS)}
# The programs sit side by side at the top: neither includes the other.
RANK["daemon"] = RANK["cli"]

# Headers the pure core must not include: the database, the loop, the
# network and HTTP libraries, systemd, threads, files and directories.
CORE_FORBIDDEN = re.compile(
    r"^(sqlite3\.h|uv\.h|uv/.*|curl/.*|microhttpd\.h|systemd/.*|pthread\.h|dirent\.h|fcntl\.h|"
    r"sys/stat\.h|sys/socket\.h|unistd\.h|netdb\.h)$")
# Calls that read files or the clock: the core takes values, not I/O.
CORE_CALLS = re.compile(r"\b(fopen|freopen|opendir|open|openat|read|stat|lstat|getenv|"
                        r"time|clock_gettime|gettimeofday|localtime_r|localtime)\s*\(")

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def module_layers(root):
    """NAME -> layer, for every daemon/LAYER/NAME.c of a library layer (the
    programs, cli/ and daemon/, have no public headers)."""
    found = {}
    for layer in LAYERS[:RANK["cli"]]:
        folder = os.path.join(root, "daemon", layer)
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if name.endswith(".c"):
                if name[:-2] in found:
                    raise SystemExit(f"daemon/{layer}/{name} and daemon/{found[name[:-2]]}/{name}: "
                                     f"one module name, two library layers")
                found[name[:-2]] = layer
    return found


def strip_comments(text):
    """The text with /* */ and // comments and string literals blanked,
    line breaks kept, so calls named in comments are not counted."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * max(0, j - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def check(root):
    modules = module_layers(root)
    problems = []
    files = []
    for layer in LAYERS:
        folder = os.path.join(root, "daemon", layer)
        if not os.path.isdir(folder):
            problems.append((None, None, f"daemon/{layer}/: the layer's folder is missing"))
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith((".c", ".h")):
                files.append((f"daemon/{layer}/{name}", layer))
    for extra in sorted(os.listdir(os.path.join(root, "daemon"))):
        if extra not in RANK:
            problems.append((None, None, f"daemon/{extra}: not in a layer's folder ({', '.join(LAYERS)})"))
    pub = os.path.join(root, "include", "careclock")
    for name in sorted(os.listdir(pub)):
        if not name.endswith(".h"):
            continue
        layer = modules.get(name[:-2])
        if layer is None:
            problems.append((None, None, f"include/careclock/{name}: a public header with no module "
                            f"(no daemon/*/{name[:-2]}.c); internal headers live beside their code"))
            continue
        files.append((f"include/careclock/{name}", layer))

    for rel, layer in files:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        for lineno, line in enumerate(text.split("\n"), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            kind, target = m.groups()
            if kind == "<":
                if layer == "core" and CORE_FORBIDDEN.match(target):
                    problems.append((rel, target, f"{rel}:{lineno}: includes <{target}>: the core is pure "
                                    f"(no database, loop, network, threads, files)"))
                continue
            if target.startswith("careclock/"):
                name = target[len("careclock/"):-2]
                to = modules.get(name)
                if to is None:
                    problems.append((rel, target, f"{rel}:{lineno}: includes \"{target}\", which no module provides"))
                    continue
            elif "/" in target:
                to = target.split("/", 1)[0]
                if to not in RANK:
                    problems.append((rel, target, f"{rel}:{lineno}: includes \"{target}\" from outside the layers"))
                    continue
            else:
                problems.append((rel, target, f"{rel}:{lineno}: includes \"{target}\" without its folder "
                                f"(write \"careclock/NAME.h\" or \"LAYER/NAME.h\")"))
                continue
            if to == layer:
                continue
            if RANK[to] >= RANK[layer]:
                where = "above" if RANK[to] > RANK[layer] else "beside"
                problems.append((rel, target, f"{rel}:{lineno}: includes \"{target}\" from {to}/, a layer {where} "
                                f"{layer}/ (a layer includes only from the layers below it)"))
        if layer == "core" and rel.endswith(".c"):
            code = strip_comments(text)
            for lineno, line in enumerate(code.split("\n"), 1):
                for m in CORE_CALLS.finditer(line):
                    before = line[:m.start()]
                    if re.search(r"(\.|->|_)$", before):
                        continue  # a member or a longer name
                    problems.append((rel, m.group(1) + "()", f"{rel}:{lineno}: calls {m.group(1)}(): the core reads no files, "
                                    f"environment or clock (take the value as a parameter)"))
    return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    problems = check(root)
    for _rel, _what, message in problems:
        print(message)
    if problems:
        print(f"layers: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("layers: every include goes downward; the core includes no I/O library")
    return 0


if __name__ == "__main__":
    sys.exit(main())
