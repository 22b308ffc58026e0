#!/usr/bin/env python3
"""A small source style check for wc2sf's C files (after curl's checksrc).

Checks what STYLE.md asks and a machine can see: 80 columns, tabs for
indentation, no trailing white space, no typedef'd structs, none of the
unbounded string functions, no printf/fprintf(stderr) outside the log
module and the command-line front, header guards named WC2SF_*_H.
Prints one line per problem as file:line: message; exits 1 if any.
"""
import os
import re
import sys

BANNED = re.compile(r"\b(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol)\s*\(")
STRAY = re.compile(r"(?<![\w.])(printf\s*\(|fprintf\s*\(\s*stderr)")
TYPEDEF = re.compile(r"^\s*typedef\s+struct\b")


def check_file(path, problems):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    stray_ok = path.endswith("log.c") or path.startswith("cli" + os.sep)
    for no, line in enumerate(lines, 1):
        where = f"{path}:{no}"
        width = len(line.expandtabs(8))
        if width > 80:
            problems.append(f"{where}: {width} columns (max 80)")
        if line.rstrip() != line:
            problems.append(f"{where}: trailing white space")
        if re.match(r"^\t* {8,}", line):
            problems.append(f"{where}: indent with tabs")
        code = line.split("//")[0]
        if BANNED.search(code):
            problems.append(f"{where}: unbounded string call")
        if TYPEDEF.search(code):
            problems.append(f"{where}: typedef struct; use struct name")
        if not stray_ok and STRAY.search(code):
            problems.append(f"{where}: printf outside the log module")
    if path.endswith(".h"):
        guard = re.search(r"^#ifndef (\w+)", "\n".join(lines), re.M)
        if guard is None or not re.fullmatch(r"WC2SF_\w+_H",
                                             guard.group(1)):
            problems.append(f"{path}:1: header guard should be WC2SF_*_H")


def main(dirs):
    problems = []
    count = 0
    for top in dirs:
        for root, _, files in os.walk(top):
            for name in sorted(files):
                if name.endswith((".c", ".h")):
                    check_file(os.path.join(root, name), problems)
                    count += 1
    for p in problems:
        print(p)
    print(f"checksrc: {count} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["fcgi", "lib", "cli"]))
