#!/usr/bin/env python3
"""Generate random but well-formed MIME messages for the GMime cross-check.

usage: mime_gen.py OUTDIR COUNT [SEED]

Trees of multipart/*, message/rfc822 and leaves (text, base64 and
quoted-printable attachments), random boundaries from the whole RFC 2046
bchars set, folded headers, quoted and RFC 2231 parameters, preambles,
epilogues, transport padding, content lines that look like boundaries but
are not, CRLF or LF line ends. Written for scripts/mime-oracle.sh; the
messages are test data only.
"""
import base64
import os
import random
import sys

BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?"


def boundary(r):
    n = r.randint(1, 60)
    b = "".join(r.choice(BCHARS + " ") for _ in range(n)).rstrip()
    return b or "x"


def text_lines(r, avoid):
    lines = []
    for _ in range(r.randint(0, 6)):
        k = r.random()
        if k < 0.1:
            lines.append("")
        elif k < 0.2 and avoid:
            # looks like a delimiter, is not one
            lines.append("--" + r.choice(avoid) + r.choice(["x", "-x", " x", "--x"]))
        elif k < 0.25:
            lines.append("-- signature")
        else:
            lines.append("".join(r.choice("abcdefgh ijk=.,") for _ in range(r.randint(1, 90))))
    return lines


def param(r, name, value):
    k = r.random()
    if k < 0.4:
        return '%s="%s"' % (name, value.replace("\\", "\\\\").replace('"', '\\"'))
    if k < 0.6 and all(c not in value for c in ' ;"()<>@,:\\/[]?='):
        return "%s=%s" % (name, value)
    if k < 0.8:
        enc = "".join("%%%02X" % ord(c) if not c.isalnum() else c for c in value)
        return "%s*=utf-8''%s" % (name, enc)
    half = len(value) // 2
    return '%s*0="%s";\n %s*1="%s"' % (name, value[:half], name, value[half:])


def header(r, name, value):
    if r.random() < 0.2 and ";" in value:
        value = value.replace("; ", ";\n\t", 1)
    return "%s: %s" % (name, value)


def entity(r, depth, avoid):
    """Returns (header lines, body lines)."""
    k = r.random()
    if depth < 5 and k < 0.35:
        b = boundary(r)
        while any(b == a or b.startswith(a) or a.startswith(b) for a in avoid):
            b = boundary(r)
        sub = r.choice(["mixed", "alternative", "related", "report", "digest"])
        hdrs = [header(r, "Content-Type", "multipart/%s; %s" % (sub, param(r, "boundary", b)))]
        body = []
        if r.random() < 0.5:
            body += text_lines(r, [])
        for _ in range(r.randint(0, 4)):
            body.append("--" + b + r.choice(["", "", " ", "\t ", "  "]))
            h, c = entity(r, depth + 1, avoid + [b])
            if sub == "digest" and r.random() < 0.5:
                # the default type of a digest part is message/rfc822
                # (with a header field: a header-less inner message is read
                # differently by GMime, see tests/mime_oracle.c)
                h2, c2 = entity(r, depth + 2, avoid + [b])
                h, c = [], ["Subject: digest item"] + h2 + [""] + c2
            elif sub == "digest" and not h:
                h = ["Content-Type: text/plain"]
            body += h + [""] + c
        body.append("--" + b + "--" + r.choice(["", " "]))
        if r.random() < 0.5:
            body += text_lines(r, [])
        return hdrs, body
    if depth < 5 and k < 0.5:
        h, c = entity(r, depth + 1, avoid)
        inner = ["Subject: inner %d" % depth, "From: x@example.org"] + h
        return [header(r, "Content-Type", "message/rfc822")], inner + [""] + c
    kind = r.random()
    if kind < 0.4:
        return [header(r, "Content-Type", "text/plain; charset=us-ascii")], text_lines(r, avoid)
    if kind < 0.7:
        data = bytes(r.randint(0, 255) for _ in range(r.randint(0, 200)))
        enc = base64.encodebytes(data).decode().splitlines()
        name = r.choice(["a.pdf", "file name.exe", "r\u00e9sum\u00e9.doc", "x;y.zip"])
        hdrs = [header(r, "Content-Type", "application/octet-stream; " + param(r, "name", name)),
                header(r, "Content-Disposition", "attachment; " + param(r, "filename", name)),
                "Content-Transfer-Encoding: base64"]
        return hdrs, enc
    if kind < 0.85:
        lines = [l + "=" if r.random() < 0.3 else l for l in text_lines(r, avoid)]
        return [header(r, "Content-Type", "text/html"),
                "Content-Transfer-Encoding: quoted-printable"], lines
    return [], text_lines(r, avoid)


def message(r):
    h, c = entity(r, 0, [])
    lines = ["From: a@example.org", "To: b@example.net", "Subject: test",
             "MIME-Version: 1.0"] + h + [""] + c
    eol = "\r\n" if r.random() < 0.7 else "\n"
    text = eol.join(lines)
    if r.random() < 0.8:
        text += eol
    return text.encode("utf-8")


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    r = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    os.makedirs(out, exist_ok=True)
    for i in range(count):
        with open(os.path.join(out, "gen%05d.eml" % i), "wb") as f:
            f.write(message(r))


if __name__ == "__main__":
    main()
