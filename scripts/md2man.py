#!/usr/bin/env python3
"""md2man.py — turns one of oj's docs (docs/runbooks.md) into a man page, so
oj-runbook(5) is the same text as the doc and cannot drift from it.

Usage: md2man.py NAME SECTION TITLE VERSION < doc.md > page

Handles what the docs use: headings, paragraphs, bullet and numbered lists,
fenced code, tables (as tagged paragraphs), `code`, **bold**, [links](url).
Every character is data to groff: backslashes, leading dots and quotes and
non-ASCII are escaped."""
import re
import sys


def esc(text):
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\e")
        elif ch == "-":
            out.append("\\-")
        elif ord(ch) > 127:
            out.append("\\[u%04X]" % ord(ch))
        else:
            out.append(ch)
    s = "".join(out)
    return s


def inline(text):
    """Markdown inline markup to roff fonts; text escaped."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links: keep the words
    parts = re.split(r"(`[^`]*`|\*\*[^*]+\*\*)", text)
    out = []
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) >= 2:
            out.append("\\fB" + esc(p[1:-1]) + "\\fR")
        elif p.startswith("**") and p.endswith("**"):
            out.append("\\fB" + esc(p[2:-2]) + "\\fR")
        else:
            out.append(esc(p))
    return "".join(out)


def line(s):
    """One output text line: a leading '.' or \"'\" would be a request."""
    if s.startswith(".") or s.startswith("'"):
        return "\\&" + s
    return s


def main():
    name, section, title, version = sys.argv[1:5]
    src = sys.stdin.read().splitlines()
    out = ['.\\" %s(%s), written by scripts/md2man.py from the docs: do not edit.' % (name, section),
           '.TH %s %s "" "%s" "%s"' % (name.upper().replace("-", "\\-"), section,
                                       esc(version), esc(title)),
           ".SH NAME", "%s \\- %s" % (esc(name), esc(title))]
    i = 0
    first_heading = True
    while i < len(src):
        s = src[i]
        if s.startswith("```"):
            out.append(".PP")
            out.append(".nf")
            out.append(".RS 4")
            i += 1
            while i < len(src) and not src[i].startswith("```"):
                out.append(line(esc(src[i])))
                i += 1
            out.append(".RE")
            out.append(".fi")
            i += 1
            continue
        m = re.match(r"^(#+)\s+(.*)$", s)
        if m:
            level, text = len(m.group(1)), m.group(2)
            if level == 1:
                if first_heading:
                    out.append(".SH DESCRIPTION")
                    first_heading = False
                else:
                    out.append('.SH "%s"' % inline(text).upper().replace('"', ""))
            elif level == 2:
                out.append('.SH "%s"' % inline(text).upper().replace('"', ""))
            else:
                out.append('.SS "%s"' % inline(text).replace('"', ""))
            i += 1
            continue
        if s.startswith("|"):
            rows = []
            while i < len(src) and src[i].startswith("|"):
                cells = [c.strip() for c in src[i].strip().strip("|").split("|")]
                if not all(re.match(r"^:?-+:?$", c) for c in cells):
                    rows.append(cells)
                i += 1
            header, body = rows[0], rows[1:]
            for r in body:
                out.append(".TP")
                out.append(line(inline(r[0])))
                rest = [("%s: %s" % (header[k], r[k]) if k > 1 else r[k])
                        for k in range(1, len(r)) if r[k]]
                out.append(line(inline("; ".join(rest))))
            continue
        m = re.match(r"^(\s*)([-*]|\d+\.)\s+(.*)$", s)
        if m:
            bullet = "\\(bu" if m.group(2) in "-*" else m.group(2)
            out.append('.IP "%s" 4' % bullet)
            out.append(line(inline(m.group(3))))
            i += 1
            while i < len(src) and src[i].startswith("  ") and src[i].strip() \
                    and not re.match(r"^\s*([-*]|\d+\.)\s", src[i]):
                out.append(line(inline(src[i].strip())))
                i += 1
            continue
        if not s.strip():
            out.append(".PP")
            i += 1
            continue
        out.append(line(inline(s.strip())))
        i += 1
    # collapse runs of paragraph breaks
    clean = []
    for o in out:
        if o == ".PP" and clean and clean[-1] in (".PP", ".SH DESCRIPTION") \
                or (o == ".PP" and clean and (clean[-1].startswith(".SH") or clean[-1].startswith(".SS"))):
            continue
        clean.append(o)
    clean.append('.SH "SEE ALSO"')
    clean.append(".BR oj (1)")
    sys.stdout.write("\n".join(clean) + "\n")


if __name__ == "__main__":
    main()
