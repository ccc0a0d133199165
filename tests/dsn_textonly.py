#!/usr/bin/env python3
# tests/dsn_textonly.py - for tests/dsn_textonly.sh: the labelled corpus
# read once more with its delivery-status parts removed, so that only the
# notice's text (and the returned message) can name the failed recipients.
#
#   dsn_textonly.py strip OUTDIR FILE...   writes OUTDIR/<name> for every
#                                         FILE that had such a part
#   dsn_textonly.py inline OUTDIR SEP FILE...
#       writes OUTDIR/<name> for every FILE (already stripped) with a notice
#       and a returned message: one text/plain part, the notice, then the
#       returned message quoted after the separator line SEP ('' none), as
#       qmail, Exim and many gateways send it
#   dsn_textonly.py second TEXT.json OUTDIR
#       for every notice of TEXT.json (egressctl's reading of the stripped
#       files) with one failed recipient: the notice's paragraph naming it
#       written twice, the second time for another address of the same
#       domain, as a notice lists two recipients (OUTDIR/expect.json
#       holds what each must read)
#   dsn_textonly.py compare-second OUTDIR/expect.json READ.json FLOOR
#       both recipients found, with the first one's reason and permanence,
#       and no other: the share of notices that agree, >= FLOOR percent
#   dsn_textonly.py compare FULL.json TEXT.json PREC RECALL PERM
#       the reports of the full messages are the reference: prints the
#       precision and recall of the failed (and delayed) recipients the
#       text alone gives, their final/temporary agreement and reason
#       agreement, every difference, and exits 1 below a floor.
import email
import email.policy
import io
import json
import os
import re
import sys
from email.generator import BytesGenerator

REPORT_TYPES = ('message/delivery-status', 'message/global-delivery-status')


def drop_reports(part):
    """Removes the report parts below part; True when one was removed."""
    if not part.is_multipart():
        return False
    kids = part.get_payload()
    keep = [k for k in kids if k.get_content_type() not in REPORT_TYPES]
    changed = len(keep) != len(kids)
    if changed:
        part.set_payload(keep)
    for k in keep:
        if k.get_content_maintype() == 'multipart' and drop_reports(k):
            changed = True
    return changed


def strip(out, files):
    for f in files:
        with open(f, 'rb') as fh:
            b = fh.read()
        try:
            m = email.message_from_bytes(b, policy=email.policy.compat32)
            if not drop_reports(m):
                continue
            bio = io.BytesIO()
            BytesGenerator(bio, mangle_from_=False).flatten(m)
        except Exception:   # a message the library cannot rewrite: skip it
            continue
        with open(os.path.join(out, os.path.basename(f)), 'wb') as fh:
            fh.write(bio.getvalue())


RETURNED_TYPES = ('message/rfc822', 'text/rfc822-headers')


def parts(m, notes, returned):
    """The first plain-text notice and the first returned message below m."""
    ct = m.get_content_type()
    if ct in RETURNED_TYPES:
        if not returned:
            p = m.get_payload()
            if isinstance(p, list):
                bio = io.BytesIO()
                BytesGenerator(bio, mangle_from_=False).flatten(p[0])
                returned.append(bio.getvalue())
            else:
                returned.append(m.get_payload(decode=True) or b'')
    elif m.is_multipart():
        for k in m.get_payload():
            parts(k, notes, returned)
    elif ct == 'text/plain' and not returned and not notes:
        notes.append(m.get_payload(decode=True) or b'')


def inline(out, sep, files):
    for f in files:
        with open(f, 'rb') as fh:
            b = fh.read()
        try:
            m = email.message_from_bytes(b, policy=email.policy.compat32)
            notes, returned = [], []
            parts(m, notes, returned)
        except Exception:   # a message the library cannot read: skip it
            continue
        if not notes or not returned:
            continue
        head = email.message_from_bytes(b, policy=email.policy.compat32)
        for h in ('Content-Type', 'Content-Transfer-Encoding',
                  'MIME-Version'):
            del head[h]
        head['MIME-Version'] = '1.0'
        head['Content-Type'] = 'text/plain; charset=utf-8'
        body = notes[0].rstrip(b'\n') + b'\n\n'
        if sep:
            body += sep.encode() + b'\n\n'
        body += returned[0]
        hb = b''.join(('%s: %s\n' % (k, v)).encode('utf-8', 'replace')
                      for k, v in head.items())
        with open(os.path.join(out, os.path.basename(f)), 'wb') as fh:
            fh.write(hb + b'\n' + body)


SECOND_LOCAL = 'second.rcpt'
PARA_MAX = 3000
PARA_LINES = 25


def second(text_json, out):
    one = {}
    for name, rs in failed(text_json, keep_path=True).items():
        if len(rs) == 1:
            one[name] = list(rs.values())[0]
    expect = {}
    for path, j in sorted(one.items()):
        a = j['recipient']
        with open(path, 'rb') as fh:
            b = fh.read().replace(b'\r\n', b'\n')
        top = b.find(b'\n\n')
        m = re.search(re.escape(a.encode()), b[top:], re.I) if top > 0 else None
        if m is None:
            continue
        pos = top + m.start()
        ps, pe = b.rfind(b'\n\n', 0, pos), b.find(b'\n\n', pos)
        if ps < top or pe < 0:
            continue
        para = b[ps + 2:pe]
        line = b[b.rfind(b'\n', 0, pos) + 1:pos]
        # not a paragraph of header fields quoted by the notice
        if (len(para) > PARA_MAX or para.count(b'\n') > PARA_LINES or
                re.match(rb'\s*[A-Za-z-]+:\s*$', line) or b'Content-' in para):
            continue
        new = SECOND_LOCAL + '@' + a.split('@', 1)[1]
        twin = re.sub(re.escape(a.encode()), new.encode(), para, flags=re.I)
        name = os.path.basename(path)
        with open(os.path.join(out, name), 'wb') as fh:
            fh.write(b[:pe] + b'\n\n' + twin + b[pe:])
        expect[name] = [a, new, j['reason'], j['permanent']]
    with open(os.path.join(out, 'expect.json'), 'w') as fh:
        json.dump(expect, fh)


def compare_second(expect_path, read_path, floor):
    with open(expect_path) as fh:
        expect = json.load(fh)
    got = failed(read_path)
    ok = 0
    for name, (a, new, reason, perm) in sorted(expect.items()):
        g, faults = got.get(name, {}), []
        for r in (a, new):
            if r not in g:
                faults.append('%s missed' % r)
            elif g[r]['reason'] != reason or g[r]['permanent'] != perm:
                faults.append('%s %s/%s' % (r, g[r]['reason'], g[r]['permanent']))
        faults += ['%s extra' % r for r in sorted(set(g) - {a, new})]
        if faults:
            print('second: %s (%s) %s' % (name, reason, '; '.join(faults)))
        else:
            ok += 1
    pct = 100.0 * ok / len(expect) if expect else 100.0
    print('notices: %d, both recipients read alike: %.1f%% (%d)' %
          (len(expect), pct, ok))
    if pct < floor:
        print('FAIL: below the floor (%.0f%%)' % floor)
        return 1
    return 0


def failed(path, keep_path=False):
    res = {}
    with open(path, encoding='utf-8') as fh:
        for line in fh:
            j = json.loads(line)
            name = j['file'] if keep_path else os.path.basename(j['file'])
            res.setdefault(name, {})
            if j.get('recipient') and j.get('action') in ('failed', 'delayed'):
                res[name][j['recipient']] = j
    return res


def compare(full_path, text_path, prec_floor, recall_floor, perm_floor):
    full, text = failed(full_path), failed(text_path)
    tp = fp = fn = perm = reason = 0
    for name in sorted(text):
        want, got = full.get(name, {}), text[name]
        for r, j in sorted(got.items()):
            if r not in want:
                fp += 1
                print('false: %s %s' % (name, r))
                continue
            tp += 1
            w = want[r]
            if j['permanent'] == w['permanent']:
                perm += 1
            else:
                print('permanent: %s %s %s -> %s' % (name, r, w['permanent'],
                                                     j['permanent']))
            if j['reason'] == w['reason']:
                reason += 1
            else:
                print('reason: %s %s %s -> %s' % (name, r, w['reason'],
                                                  j['reason']))
        for r in sorted(set(want) - set(got)):
            fn += 1
            print('missed: %s %s' % (name, r))
    p = tp / (tp + fp) if tp + fp else 1.0
    rc = tp / (tp + fn) if tp + fn else 1.0
    pm = 100.0 * perm / tp if tp else 100.0
    print('files: %d, recipients of the full reports: %d' %
          (len(text), tp + fn))
    print('text alone: precision %.3f (%d/%d)  recall %.3f (%d/%d)' %
          (p, tp, tp + fp, rc, tp, tp + fn))
    print('final/temporary: %.1f%% (%d)  reason: %.1f%% (%d)' %
          (pm, perm, 100.0 * reason / tp if tp else 100.0, reason))
    bad = p < prec_floor or rc < recall_floor or pm < perm_floor
    if bad:
        print('FAIL: below the floors (precision %.2f, recall %.2f, '
              'final/temporary %.0f%%)' % (prec_floor, recall_floor, perm_floor))
    return 1 if bad else 0


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'strip':
        strip(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 4 and sys.argv[1] == 'inline':
        inline(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) == 4 and sys.argv[1] == 'second':
        second(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == 'compare-second':
        sys.exit(compare_second(sys.argv[2], sys.argv[3], float(sys.argv[4])))
    elif len(sys.argv) == 7 and sys.argv[1] == 'compare':
        sys.exit(compare(sys.argv[2], sys.argv[3], float(sys.argv[4]),
                         float(sys.argv[5]), float(sys.argv[6])))
    else:
        sys.exit('usage: dsn_textonly.py strip OUTDIR FILE... | '
                 'inline OUTDIR SEP FILE... | second TEXT.json OUTDIR | '
                 'compare-second EXPECT.json READ.json FLOOR | '
                 'compare FULL.json TEXT.json PREC RECALL PERM')
