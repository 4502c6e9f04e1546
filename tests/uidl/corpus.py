"""Mailboxes built to break the old servers' UIDL rules (issue 15), and a
reference model of what popperd must list for them under a uidl_format.

Every message carries a marker header, "X-Corpus: ID", first after its
From_ line: no server counts it, and it tells which of the old server's
messages begins where one of popperd's does (the servers divide a mailbox
differently). A message the old server begins inside one of popperd's
carries a marker of its own, "ID.h", after the From_ line it begins at.

The model (expected_listing) is the rule of src/mbox/old_server_uidl.h,
written again independently: a popperd message whose marker is the first
of an old server's message gets that message's UIDL; twins get "-2",
"-3", ...; every other message gets popperd's digest (README, "UIDL"),
with "-N" for repeated digests, never a value an old name took.
"""
import hashlib
import re

FROM = b"From sender@example.org Mon Nov 30 06:00:00 2026\n"
FROM_CRLF = FROM[:-1] + b"\r\n"
MAX_UIDL = 70


def message(marker, headers, body=b"body\n", from_line=FROM, eol=b"\n"):
    """From_ line, marker, header lines, blank line, body (lines given with LF)."""
    text = b"X-Corpus: " + marker.encode() + b"\n" + headers + b"\n" + body
    return from_line + text.replace(b"\n", eol)


def mbox(*messages, eol=b"\n"):
    """Messages separated by a blank line, as an MTA appends them."""
    return eol.join(messages)


def padded(prefix, octets, eol=b"\n"):
    """A header line of exactly `octets` octets, line ending included."""
    fill = octets - len(prefix) - len(eol)
    return prefix + (b"0123456789abcdefghij" * (fill // 20 + 1))[:fill] + eol


SEVENTY_ONE = b"u" * 71

# The main mailbox: LF lines, a final newline.
MAIN = mbox(
    # folded Received; Date and Message-ID after it (popa3d skips those)
    message("01", b"Received: from relay.example.org (relay [192.0.2.1])\n"
                  b"\tby mx.example.org with ESMTP id 1;\n\tMon, 30 Nov 2026 06:00:00 +0000\n"
                  b"Received: from outside.example.net by relay.example.org\n"
                  b"Date: Mon, 30 Nov 2026 05:59:00 +0000\n"
                  b"Message-ID: <01@example.org>\nSubject: folded Received\n"),
    # Date and Message-Id before Received
    message("02", b"Date: Mon, 30 Nov 2026 05:58:00 +0000\nMessage-Id: <02@example.org>\n"
                  b"Received: from relay by mx; Mon, 30 Nov 2026 06:00:01 +0000\n"
                  b"Subject: Date before Received\n"),
    # Message-ID and Message-Id, no Received
    message("03", b"Message-ID: <03a@example.org>\nMessage-Id: <03b@example.org>\n"
                  b"MESSAGE-ID: <03c@example.org>\nSubject: Message-ID spellings\n"),
    # Delivered-To twice, X-Delivery-ID in both cases
    message("04", b"Delivered-To: alice@example.org\nX-Delivery-ID: 4711\n"
                  b"x-delivery-id: 4712\nX-DELIVERY-ID: 4713\nDelivered-To: bob@example.org\n"
                  b"Subject: Delivered-To and X-Delivery-ID\n"),
    # twins: the same counted headers three times
    message("05", b"Received: from twin by mx\nDate: twin\nMessage-ID: <twin@example.org>\n"
                  b"Subject: twin\n"),
    message("06", b"Received: from twin by mx\nDate: twin\nMessage-ID: <twin@example.org>\n"
                  b"Subject: twin\n"),
    message("07", b"Received: from twin by mx\nDate: twin\nMessage-ID: <twin@example.org>\n"
                  b"Subject: twin\n"),
    # none of the counted headers (twins of each other to popa3d and solid-pop3d)
    message("08", b"From: someone@example.org\nTo: alice@example.org\n"),
    message("09", b"From: someone.else@example.org\nTo: alice@example.org\n"),
    # header lines around popa3d's 32-octet line buffer, solid-pop3d's
    # 128-octet pieces, 4096 octets, solid-pop3d's 10240-octet read buffer,
    # popa3d's 64 KiB file buffer
    message("10", padded(b"Received: ", 31) + padded(b"Date: ", 32) + padded(b"Subject: ", 33)),
    message("11", padded(b"Received: ", 127) + padded(b"Date: ", 128) +
            padded(b"Subject: ", 129)),
    message("12", padded(b"Received: ", 4095) + padded(b"Date: ", 4096) +
            padded(b"Subject: ", 4097)),
    message("13", padded(b"Received: ", 10241) + padded(b"Subject: ", 70000)),
    # body From_ lines: without a blank line before (short, 28 octets, one
    # with a date), then with one (short, and a whole From_ line)
    message("14", b"Subject: body From lines\n",
            b"text\nFrom short\nmore text\n" + b"From " + b"x" * 22 + b"\n" +
            b"X-Corpus: 14.h\nSubject: hidden by solid-pop3d\n\nbody\n" +
            b"From someone@example.org Mon Nov 30 06:00:00 2026\n"
            b"X-Corpus: 14.d\nSubject: hidden by Dovecot\n\nbody\n"),
    message("15", b"Subject: begun by a short From line\n", from_line=b"From me\n"),
    message("16", b"Subject: after it\n"),
    # X-UIDL: valid ones, invalid ones, twins
    message("17", b"X-UIDL: 0123456789abcdef0123456789abcdef\nSubject: qpopper X-UIDL\n"),
    message("18", b"x-uidl: d11d33d15fdfd4612c2a66f088c9c579.1796680679.1\n"
                  b"Subject: Mailutils x-uidl\n"),
    message("19", b"X-UIDL: has space\nX-UIDL: second-valid-one\nSubject: two X-UIDLs\n"),
    message("20", b"X-UIDL: " + SEVENTY_ONE + b"\nSubject: X-UIDL too long\n"),
    message("21", b"X-UIDL:\nSubject: X-UIDL empty\n"),
    message("22", b"X-UIDL: abcdefghijkl\n\tmnop\nSubject: X-UIDL folded\n"),
    message("23", b"X-UIDL: 0123456789abcdef0123456789abcdef\nSubject: X-UIDL twin\n"),
    message("24", b"Subject: X-UIDL in the body\n", b"X-UIDL: not-a-header-here\n"),
    # headers servers rewrite, and an X-UID from the outside
    message("25", b"Status: RO\nX-Status: A\nX-UID: 999999\nX-IMAPbase: 1 2\n"
                  b"Subject: status and a foreign X-UID\n"),
    message("26", b"Subject: last one\n", b"bye\n"),
) + b"\n"

# CRLF lines throughout: the servers' header ends and separators differ.
CRLF = mbox(
    message("c1", b"Received: from a by b\nSubject: crlf one\n",
            b"body\nDate: in the body\nReceived: in the body\n", FROM_CRLF, b"\r\n"),
    message("c2", b"Delivered-To: x@example.org\nSubject: crlf two\n", b"two\n", FROM_CRLF,
            b"\r\n"),
    message("c3", b"Date: three\nSubject: crlf three\n", b"three\n", FROM_CRLF, b"\r\n"),
    eol=b"\r\n") + b"\r\n"

# LF messages, one separated by a CRLF blank line; the last without LF.
MIXED = (message("m1", b"Received: from a\nSubject: before a CRLF blank line\n") + b"\r\n" +
         message("m2", b"Received: from b\nSubject: after it\n") + b"\n" +
         message("m3", b"Date: no final newline\nSubject: last\n", b"no newline"))

# UW's (and Dovecot's) pseudo-message first.
PSEUDO = mbox(
    b"From MAILER-DAEMON Mon Nov 30 06:00:00 2026\n"
    b"X-Corpus: p0\n"
    b"Date: 30 Nov 2026 06:00:00 +0000\n"
    b"From: Mail System Internal Data <MAILER-DAEMON@example.org>\n"
    b"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
    b"Message-ID: <1796680000@example.org>\n"
    b"X-IMAP: 1796680000 0000000000\n"
    b"Status: RO\n\nThis text is part of the internal format of your mail folder.\n",
    message("p1", b"Received: from a\nSubject: after the pseudo-message\n"),
    message("p2", b"Received: from b\nSubject: second\n"),
) + b"\n"

MAILBOXES = {"main": MAIN, "crlf": CRLF, "mixed": MIXED, "pseudo": PSEUDO}


# --- popperd's division and digest (README, "UIDL"; mbox_index.h) ------------

def split_popperd(data):
    """[(from_line, content)]: "From " at the start or after an empty line
    (LF or CRLF), which belongs to the separator, as does one at the end."""
    lines = data.splitlines(keepends=True)
    messages, current = [], None
    for k, line in enumerate(lines):
        starts = line.startswith(b"From ") and (k == 0 or lines[k - 1] in (b"\n", b"\r\n"))
        if starts:
            if current is not None:
                current[1].pop()  # the separator's empty line
            current = [line, []]
            messages.append(current)
        else:
            current[1].append(line)
    if current is not None and current[1] and current[1][-1] in (b"\n", b"\r\n"):
        current[1].pop()
    return [(f, b"".join(c)) for f, c in messages]


SKIPPED_FIELDS = {b"status", b"x-status", b"x-keywords", b"x-uid", b"x-mozilla-status",
                  b"x-mozilla-status2", b"content-length", b"lines"}
HEADER_LIMIT = 64 * 1024


def popperd_digest(from_line, content):
    md5 = hashlib.md5(from_line.rstrip(b"\r\n")[:HEADER_LIMIT] + b"\n")
    taken, skipping = 0, False
    for line in content.splitlines(keepends=True):
        if line in (b"\n", b"\r\n") or taken >= HEADER_LIMIT:
            break
        line = line[:HEADER_LIMIT - taken]
        taken += len(line)
        line = line.rstrip(b"\n").rstrip(b"\r") if line.endswith(b"\n") else line.rstrip(b"\r")
        if not line.startswith((b" ", b"\t")):
            name = line.split(b":", 1)[0].strip().lower() if b":" in line else b""
            skipping = name in SKIPPED_FIELDS
        if not skipping:
            md5.update(line + b"\n")
    return md5.hexdigest()


MARKER = re.compile(rb"^X-Corpus: (\S+)", re.M)


def marker(text):
    found = MARKER.search(text)
    return found.group(1).decode() if found else None


def valid_uidl(value):
    return 1 <= len(value) <= MAX_UIDL and all(0x21 <= c <= 0x7e for c in value.encode())


def expected_listing(data, old_uidls, old_markers):
    """What popperd lists for mailbox `data`, given the old server's UIDLs
    and the first marker of each of its messages. Returns (uidls, free):
    `free` holds the positions whose old UIDL is not a valid RFC 1939 one,
    where the old server cannot be matched: only validity and uniqueness
    are required there."""
    messages = split_popperd(data)
    by_marker = {}
    for uidl, mk in zip(old_uidls, old_markers):
        if mk is not None and mk not in by_marker:
            by_marker[mk] = uidl
    names, free = {}, set()
    for i, (_, content) in enumerate(messages):
        old = by_marker.get(marker(content))
        if old is None:
            continue
        if valid_uidl(old):
            names[i] = old
        else:
            free.add(i)
    # Twins: the first keeps the name, the next take the first free "-N".
    all_names = set(names.values())
    given, seen = set(), set()
    for i in sorted(names):
        name = names[i]
        if name not in seen:
            seen.add(name)
            continue
        n = 2
        while (name + "-%d" % n) in all_names or (name + "-%d" % n) in given:
            n += 1
        candidate = name + "-%d" % n
        if len(candidate) > MAX_UIDL:
            del names[i]
        else:
            given.add(candidate)
            names[i] = candidate
    taken = set(names.values())
    next_repeat, uidls = {}, []
    for i, (from_line, content) in enumerate(messages):
        if i in names:
            uidls.append(names[i])
            continue
        digest = popperd_digest(from_line, content)
        repeat = next_repeat.get(digest, 0)
        while (digest if repeat == 0 else "%s-%d" % (digest, repeat + 1)) in taken:
            repeat += 1
        next_repeat[digest] = repeat + 1
        uidls.append(digest if repeat == 0 else "%s-%d" % (digest, repeat + 1))
    return uidls, free
