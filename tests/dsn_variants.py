#!/usr/bin/env python3
# tests/dsn_variants.py - rewrites of a bounce that change nothing a reader
# may rely on, for tests/dsn_variants.sh: line ends, header-name case, the
# transfer encoding of the notice, indentation, the MIME boundary, the
# returned message cut to its headers, an encoded Subject, Postfix's
# recipient paragraphs wrapped at another width, the notice as HTML, the
# delivery-status fields folded, in another order, with bracketed
# addresses, with blanks before their colons, the delivery-status part
# labelled text/plain, a gateway's tag before the Subject and its footer
# as a text part of its own.
#
#   dsn_variants.py --list                  the variants' names
#   dsn_variants.py OUTDIR VARIANT FILE...   writes OUTDIR/VARIANT-N.eml for
#                                           every FILE the variant changes
#   dsn_variants.py --compare BASE.json VAR.json VARIANT
#       compares "egressctl classify --format json" of the files and of
#       their rewrites, field by field ("file" aside); prints each
#       difference and exits 1 when there is one.
import base64
import email
import html
import json
import os
import email.policy
import quopri
import re
import sys


def crlf(b):
    return re.sub(rb'\r?\n', b'\r\n', b)


def header_end(b):
    m = re.search(rb'\r?\n\r?\n', b)
    return m.start() if m else -1


def names(b, fn):
    i = header_end(b)
    if i < 0:
        return None
    h = re.sub(rb'(?m)^([A-Za-z][A-Za-z0-9-]*):',
               lambda m: fn(m.group(1)) + b':', b[:i])
    return h + b[i:]


def first_plain(msg):
    for part in msg.walk():
        if part.get_content_type() == 'text/plain' and not part.is_multipart():
            return part
    return None


def reencode(b, cte):
    msg = email.message_from_bytes(b, policy=email.policy.compat32)
    part = first_plain(msg)
    if part is None or part.get('Content-Transfer-Encoding', '7bit').strip().lower() \
            in ('base64', 'quoted-printable'):
        return None
    raw = part.get_payload(decode=True)
    if raw is None:
        return None
    del part['Content-Transfer-Encoding']
    part['Content-Transfer-Encoding'] = cte
    if cte == 'base64':
        part.set_payload(base64.encodebytes(raw).decode('ascii'))
    else:
        part.set_payload(quopri.encodestring(raw).decode('ascii'))
    return msg.as_bytes()


def tabs(b):
    i = header_end(b)
    if i < 0:
        return None
    return b[:i] + re.sub(rb'(?m)^ {2,}(?=\S)', b'\t', b[i:])


def boundary(b):
    msg = email.message_from_bytes(b, policy=email.policy.compat32)
    bd = msg.get_boundary()
    if not bd:
        return None
    old = re.escape(bd.encode('latin-1'))
    new = b'=_variant_boundary_' + str(len(bd)).encode()
    b, lines = re.subn(rb'(?m)^--' + old + rb'(--)?(?=\s|$)',
                       lambda m: b'--' + new + (m.group(1) or b''), b)
    if lines == 0:      # delimiters this rewrite does not see (CR-only lines)
        return None
    return re.sub(rb'(?i)(boundary=)("?)' + old + rb'\2',
                  lambda m: m.group(1) + m.group(2) + new + m.group(2), b, count=1)


def headers_only(b):
    msg = email.message_from_bytes(b, policy=email.policy.compat32)
    if not msg.is_multipart():
        return None
    done = False
    for part in msg.walk():
        if not part.is_multipart():
            continue
        kids = part.get_payload()
        for k, kid in enumerate(kids):
            if kid.get_content_type() != 'message/rfc822':
                continue
            inner = kid.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else None
            if inner is None or not inner.items():
                continue    # headers the library does not see: leave it
            hp = email.message.Message()
            hp['Content-Type'] = 'text/rfc822-headers'
            hp.set_payload(''.join('%s: %s\n' % kv for kv in inner.items()))
            kids[k] = hp
            done = True
    return msg.as_bytes() if done else None


def subject_2047(b):
    i = header_end(b)
    if i < 0:
        return None
    h = b[:i]
    m = re.search(rb'(?mi)^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)', h)
    if m is None or b'=?' in m.group(1):
        return None
    text = re.sub(rb'\r?\n[ \t]+', b' ', m.group(1)).strip()
    try:
        text.decode('ascii')
    except UnicodeDecodeError:
        return None
    enc = b'=?UTF-8?B?' + base64.b64encode(text) + b'?='
    return h[:m.start(1)] + enc + h[m.end(1):] + b[i:]


REWRAP_WIDTH = 50


def rewrap(b):
    """Postfix's recipient paragraphs ("<a>: host x said: ..." and its
    lines indented by four blanks) wrapped again at another width: the
    words and their order stay, the breaks move (a longer address breaks
    the lines of the same notice elsewhere). Other lines are left alone."""
    i = header_end(b)
    if i < 0:
        return None
    try:
        t = b[i:].decode('ascii')
    except UnicodeDecodeError:
        return None
    nl = '\r\n' if '\r\n' in t else '\n'
    lines = t.split(nl)
    cont = re.compile(r'^ {4}\S')
    postfix = re.compile(r'^<[^<>\s]+@[^<>\s]+>(?::| \(expanded from)')
    out, j = [], 0
    while j < len(lines):
        head = lines[j]
        if (postfix.match(head) and not head.endswith(('=', ':')) and
                j + 1 < len(lines) and cont.match(lines[j + 1])):
            k = j + 1
            while (k < len(lines) and cont.match(lines[k]) and
                   not lines[k].endswith('=')):
                k += 1
            words = ' '.join([head] + [x.strip() for x in lines[j + 1:k]]).split()
            new, cur = [], ''
            for w in words:
                lim = REWRAP_WIDTH if not new else REWRAP_WIDTH - 4
                if cur and len(cur) + 1 + len(w) > lim:
                    new.append(cur if not new else '    ' + cur)
                    cur = w
                else:
                    cur = cur + ' ' + w if cur else w
            if cur:
                new.append(cur if not new else '    ' + cur)
            out.extend(new)
            j = k
            continue
        out.append(head)
        j += 1
    nb = b[:i] + nl.join(out).encode('ascii')
    return nb if nb != b else None


def html_notice(b):
    """The notice part of a multipart bounce sent as HTML instead of plain
    text: each line escaped and ended by <br>, a blank line by <p>, as
    the HTML-only notices of Exchange and the web mailers are."""
    msg = email.message_from_bytes(b, policy=email.policy.compat32)
    if not msg.is_multipart():
        return None
    for part in msg.get_payload():
        if part.get_content_type() != 'text/plain':
            continue
        raw = part.get_payload(decode=True)
        try:
            text = raw.decode(part.get_content_charset() or 'us-ascii')
        except (LookupError, UnicodeDecodeError, AttributeError):
            return None
        lines = text.replace('\r\n', '\n').split('\n')
        body = '<html><body>\n' + '\n'.join(
            ('<p>' if not ln.strip() else '') + html.escape(ln) + '<br>'
            for ln in lines) + '\n</body></html>\n'
        del part['Content-Transfer-Encoding']
        part.set_payload(body.encode('utf-8'), 'utf-8')
        part.set_type('text/html')
        return msg.as_bytes()
    return None


DS_PART = re.compile(rb'(?im)^content-type:[ \t]*message/(?:global-)?'
                     rb'delivery-status[^\n]*\n(?:[ \t][^\n]*\n|'
                     rb'[A-Za-z-]+:[^\n]*\n)*\r?\n')


def ds_fields(b, fn):
    """fn applied to the text of every delivery-status part (from its
    blank line to the next boundary line); None when there is none."""
    out, pos, hit = [], 0, False
    for m in DS_PART.finditer(b):
        if m.start() < pos:
            continue
        start = m.end()
        nb = re.search(rb'(?m)^--', b[start:])
        end = start + nb.start() if nb else len(b)
        out += [b[pos:start], fn(b[start:end])]
        pos, hit = end, True
    return b''.join(out) + b[pos:] if hit else None


def ds_fold(t):
    """Long fields folded at a blank before column 60, as MTAs fold
    Diagnostic-Code."""
    lines = []
    for ln in t.split(b'\n'):
        while len(ln) > 60 and b' ' in ln[30:60]:
            k = ln.rfind(b' ', 30, 60)
            lines.append(ln[:k])
            ln = b'    ' + ln[k + 1:]
        lines.append(ln)
    return b'\n'.join(lines)


def ds_reorder(t):
    """The fields of each recipient's block in the reverse order (RFC
    3464 fixes none; a block of several recipients, whose order ties
    each field to its recipient, is left)."""
    blocks = re.split(rb'(\r?\n[ \t]*\r?\n)', t)
    for i in range(0, len(blocks), 2):
        fields = re.findall(rb'(?m)^[A-Za-z][A-Za-z0-9-]*:[^\n]*'
                            rb'(?:\n[ \t][^\n]*)*', blocks[i])
        finals = sum(1 for f in fields
                     if f.lower().startswith(b'final-recipient'))
        if len(fields) > 1 and finals == 1 and \
                b'\n'.join(fields) == blocks[i].rstrip(b'\n'):
            tail = blocks[i][len(blocks[i].rstrip(b'\n')):]
            blocks[i] = b'\n'.join(reversed(fields)) + tail
    return b''.join(blocks)


def ds_bracket(t):
    """Recipient addresses in angle brackets ("rfc822; <a>")."""
    return re.sub(rb'(?im)^((?:final|original)-recipient:[ \t]*rfc822;[ \t]*)'
                  rb'([^<\s]\S*@\S+)[ \t]*$',
                  lambda m: m.group(1) + b'<' + m.group(2) + b'>', t)


def ds_spaced(t):
    """Blanks before each field's colon (RFC 5322 4.5.2)."""
    return re.sub(rb'(?m)^([A-Za-z][A-Za-z0-9-]*):[ \t]*',
                  lambda m: m.group(1) + b' :  ', t)


def ds_as_text(b):
    """Every delivery-status part labelled text/plain, as some gateways
    send it: its fields read as a report's all the same. A part that is
    no report on its own (no recipient field, or a MIME header inside it
    where a broken boundary swallowed the next part) is left."""
    bounds = [re.escape(x) for x in
              re.findall(rb'(?i)boundary="?([^";\s]+)', b)]
    if not bounds:
        return None
    delim = re.compile(rb'(?m)^--(?:' + b'|'.join(bounds) + rb')')
    for m in DS_PART.finditer(b):
        nb = delim.search(b, m.end())
        body = b[m.end():nb.start() if nb else len(b)]
        if not re.search(rb'(?im)^(?:final|original)-recipient[ \t]*:', body) \
                or re.search(rb'(?im)^content-type:', body):
            return None
    return re.sub(rb'(?im)^(content-type:[ \t]*)message/(?:global-)?'
                  rb'delivery-status', rb'\1text/plain', b)


def subject_tag(b):
    """A receiving gateway's tag before the Subject ("[EXTERNAL] ")."""
    nb = re.sub(rb'(?im)^(subject:)[ \t]*', rb'\1 [EXTERNAL] ', b, count=1)
    return nb if nb != b else None


FOOTER = (b'This email has been scanned for viruses and malware by the '
          b'gateway service.\n')


def footer_part(b):
    """A gateway's footer added as a text part of its own before the
    top multipart's closing delimiter: nothing is read from it."""
    h = header_end(b)
    if h < 0:
        return None
    m = re.search(rb'(?im)^content-type:[ \t]*multipart/[a-z-]+;'
                  rb'(?:[^\n]*\n[ \t])*[^\n]*?boundary="?([^";\s]+)', b[:h])
    if not m:
        return None
    close = b'\n--' + m.group(1) + b'--'
    k = b.rfind(close)
    if k < 0:
        return None
    return (b[:k] + b'\n--' + m.group(1) +
            b'\nContent-Type: text/plain; charset=us-ascii\n\n' + FOOTER +
            b[k:])


VARIANTS = {
    'crlf': crlf,
    'lowerhdr': lambda b: names(b, lambda n: n.lower()),
    'upperhdr': lambda b: names(b, lambda n: n.upper()),
    'base64': lambda b: reencode(b, 'base64'),
    'qp': lambda b: reencode(b, 'quoted-printable'),
    'tabs': tabs,
    'boundary': boundary,
    'hdronly': headers_only,
    'subject2047': subject_2047,
    'rewrap': rewrap,
    'html': html_notice,
    'dsfold': lambda b: ds_fields(b, ds_fold),
    'dsreorder': lambda b: ds_fields(b, ds_reorder),
    'dsbracket': lambda b: ds_fields(b, ds_bracket),
    'dsspaced': lambda b: ds_fields(b, ds_spaced),
    'dstext': ds_as_text,
    'subjtag': subject_tag,
    'footer': footer_part,
}


def main():
    out, name, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    fn = VARIANTS[name]
    for n, f in enumerate(files):
        with open(f, 'rb') as fh:
            b = fh.read()
        try:
            nb = fn(b)
        except Exception:   # a message the library cannot rewrite: skip it
            nb = None
        if nb is None or nb == b:
            continue
        with open('%s/%s-%d.eml' % (out, name, n), 'wb') as fh:
            fh.write(nb)
    with open('%s/%s.map' % (out, name), 'w') as fh:
        for n, f in enumerate(files):
            fh.write('%s-%d.eml\t%s\n' % (name, n, f))


def reports(path):
    res = {}
    with open(path, encoding='utf-8') as fh:
        for line in fh:
            j = json.loads(line)
            f = j.pop('file')
            res[(f, j.get('rcpt_index', 0))] = j
    return res


def compare(base_path, var_path, name):
    base, var = reports(base_path), reports(var_path)
    src = {}
    with open(os.path.join(os.path.dirname(var_path), name, name + '.map')) as fh:
        for line in fh:
            v, f = line.rstrip('\n').split('\t')
            src[v] = f
    by_file = {}
    for (f, i), j in var.items():
        by_file.setdefault(src[os.path.basename(f)], {})[i] = j
    bad = 0
    for f in sorted(by_file):
        want = {i: j for (g, i), j in base.items() if g == f}
        got = by_file[f]
        for i in sorted(set(want) | set(got)):
            a, b = want.get(i), got.get(i)
            if a == b:
                continue
            bad += 1
            keys = sorted(set(a or {}) | set(b or {}))
            diff = ['%s: %r -> %r' % (k, (a or {}).get(k), (b or {}).get(k))
                    for k in keys if (a or {}).get(k) != (b or {}).get(k)]
            print('%s: %s #%d: %s' % (name, f, i, '; '.join(diff)))
    print('%s: %d rewritten files, %d recipients differ' % (name, len(by_file), bad))
    return 1 if bad else 0


if __name__ == '__main__':
    if len(sys.argv) == 2 and sys.argv[1] == '--list':
        print(' '.join(VARIANTS))
    elif len(sys.argv) == 5 and sys.argv[1] == '--compare':
        sys.exit(compare(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        main()
