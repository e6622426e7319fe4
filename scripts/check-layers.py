#!/usr/bin/python3
"""check-layers: every #include and every call in the daemon points down a layer
(make check-layers).

The layers, top to bottom (docs/architecture.md has the picture):

    daemon/            start-up wiring (daemon_main.c)
    daemon/rpc/        thin adapters: validate, call the domain, build the reply
    daemon/engine/     the engine thread and the domain with effects
    daemon/rules/      pure rules: no clock, no I/O
    daemon/runners/  daemon/wire/  daemon/store/   (siblings: none includes another)
    daemon/base/       log, config, hash map, JSON and shell helpers
    common/            shared with the CLI
    gen/               protoc-c's output

A file may include headers of its own folder and of any lower layer. rules/
may include only rules/ and the pure headers named in PURE. cli/ is a client:
it includes cli/, common/ and gen/, and of the daemon only its one entry
header, daemon/daemon_main.h (ENTRY: running the daemon, checking its
settings, the offline restore), and calls only the functions declared there;
common/ includes common/ and gen/.

Includes are not the whole story: daemon.h declares functions of every layer.
So with --objects DIR (the build's object files) the same rule is applied to
calls: every undefined symbol of an object is looked up in the objects that
define it (nm), and a call up or sideways is a violation too. A call into the
object of a PURE header (json.o for json.h) is as allowed as its include.

Known violations still being removed are listed in scripts/layers-known.txt
as "file -> folder/header" or "file.o -> folder: symbol" lines: the check
fails on any violation not listed there, and on a listed one that is gone (so
the list only shrinks).
"""
import os
import re
import subprocess
import sys

RANK = {
    "daemon": 0,
    "daemon/rpc": 1,
    "daemon/engine": 2,
    "daemon/rules": 3,
    "daemon/runners": 4,
    "daemon/wire": 4,
    "daemon/store": 4,
    "daemon/base": 5,
    "common": 6,
    "gen": 7,
}
# Headers with no I/O that the pure rules may use.
PURE = {"json.h", "hmap.h", "shell.h", "tmux_pane.h", "duration.h", "utf8.h", "fnv.h"}
CLIENT_OK = {"cli", "common", "gen"}
# The daemon's one entry header for cli/ (the other half of the oj binary).
ENTRY = "daemon/daemon_main.h"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def allowed(folder, to, pure_ok):
    """May code in `folder` use `to`? pure_ok: the header is in PURE."""
    if to == folder:
        return True
    if folder == "cli":
        return to in CLIENT_OK
    if folder == "common":
        return to in ("common", "gen")
    if to == "cli":
        return False
    if folder == "daemon/rules":
        return to == "gen" or pure_ok
    return RANK[to] > RANK[folder]


def entry_symbols():
    """The functions daemon/daemon_main.h declares: all cli/ may call in daemon/."""
    with open(ENTRY, encoding="utf-8") as f:
        return set(re.findall(r"\b(oj_\w+)\s*\(", f.read()))


def calls(objdir):
    """(object path, folder it calls into, symbol) for every call up or sideways."""
    entry = entry_symbols()
    defined, wanted = {}, []
    for folder in list(RANK) + ["cli"]:
        d = os.path.join(objdir, folder)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith(".o"):
                continue
            out = subprocess.run(["nm", os.path.join(d, name)], capture_output=True, text=True,
                                 check=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[1] in "TDBR":
                    defined[parts[2]] = (folder, name[:-2] + ".h" in PURE)
                elif len(parts) == 2 and parts[0] == "U":
                    wanted.append((folder, f"{folder}/{name}", parts[1]))
    found = set()
    for folder, obj, sym in wanted:
        to, pure_ok = defined.get(sym, (None, False))
        if folder == "cli" and to == os.path.dirname(ENTRY) and sym in entry:
            continue
        if to is not None and not allowed(folder, to, pure_ok):
            found.add(f"{obj} -> {to}: {sym}")
    return found


def main():
    objdir = None
    if len(sys.argv) == 3 and sys.argv[1] == "--objects":
        objdir = sys.argv[2]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    where = {}
    files = []
    for folder in list(RANK) + ["cli"]:
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith((".c", ".h")):
                files.append((folder, name))
                if name.endswith(".h"):
                    if name in where:
                        print(f"check-layers: {name} is in both {where[name]} and {folder}; "
                              "header names must be unique (they are included by name)")
                        return 1
                    where[name] = folder
    found = set()
    unknown = []
    for folder, name in files:
        path = f"{folder}/{name}"
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for header in INCLUDE.findall(text):
            to = where.get(os.path.basename(header))
            if to is None:
                unknown.append(f"{path}: includes {header}, which no layer holds")
                continue
            ok = allowed(folder, to, os.path.basename(header) in PURE)
            if folder == "cli" and f"{to}/{os.path.basename(header)}" == ENTRY:
                ok = True
            if not ok:
                found.add(f"{path} -> {to}/{os.path.basename(header)}")
    if objdir:
        found |= calls(objdir)
    known = set()
    known_path = "scripts/layers-known.txt"
    if os.path.exists(known_path):
        with open(known_path, encoding="utf-8") as f:
            known = {line.split("#")[0].strip() for line in f} - {""}
    new = sorted(found - known)
    gone = sorted(known - found)
    for line in unknown:
        print(f"check-layers: {line}")
    for v in new:
        print(f"check-layers: {v} points up or sideways; move the code to the layer it "
              "belongs to, or hand a callback down")
    for v in gone:
        print(f"check-layers: {v} is fixed; remove it from {known_path}")
    if unknown or new or gone:
        return 1
    what = "include and call" if objdir else "include"
    print(f"check-layers: every {what} points down ({len(known)} known exception(s) left "
          f"in {known_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
