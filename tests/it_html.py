#!/usr/bin/env python3
"""imgscan html: one self-contained page from real scan reports, checked as
a file and in a real browser (headless Chromium).

A small archive made by the real tools (genisoimage, mkfs.vfat, mkfs.ext4,
qemu-img): an ISO named .img, a FAT disk named .iso, an ext4 image and its
copy (a duplicate pair), a qcow2 named .img, an ISO cut short (TRUNCATED),
an ISO labelled <script>alert(1)</script>, files named
<img src=x onerror=alert(2)>.iso, with U+2028, and with a byte that is not
UTF-8.  It is scanned as JSON; a second tree (a mode 000 image and a mode
000 directory, scanned as nobody, and a dangling symlink followed: open and
walk errors) as JSON lines; both make one page.

Without a browser: the data block parses back to the reports' images, no
string from a disk appears raw (two <script> elements, no raw U+2028, the
report's file name escaped), nothing is fetched (no <link>, no http(s)
src/href, a CSP meta), atomic write (replaced inode, no temporary file
left), -o through a symlink, a dangling symlink, a directory or a report
refused (64), a file that is not a report refused with the reader's
message (2, nothing written), stdin, --help, usage errors; a hand-edited
copy (findings that are no list, lists holding null, an empty kind, a
severity "constructor") charted whole; a root not UTF-8 shown with its bytes.

In Chromium (--headless=new, its own profile in the test's directory,
killed on timeout), through the page's test hook (#selftest=...): one
findings row per finding, a filter narrows the images, a sort reorders them
(order checked), the XSS label and file name are text and no element was
injected, the lossy name shows its marker and base64, a tampered copy's
external image is blocked by the page's CSP (a local proxy sees no request
for it; without the CSP it does), and an injected <script> or onerror= does
not run (the CSP names the page's own script by its hash); a page of IMGSCAN_HTML_SCALE (20,000)
synthetic images opens, its time printed.  A screenshot is kept in
it_html-artifacts/ beside the imgscan binary.  No Chromium, or one that
cannot start: those checks are skipped (77) after the others passed."""
import base64
import html
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

XSS_LABEL = "<script>alert(1)</script>"
XSS_NAME = "<img src=x onerror=alert(2)>.iso"
LOSSY_NAME = b"bad\xffname.iso"
LS_NAME = "line\u2028sep.iso"


def run(*args, timeout=300, **kw):
    return subprocess.run([itlib.IMGSCAN, *[a if isinstance(a, bytes) else str(a) for a in args]],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, **kw)


def make_archive(top):
    a = os.path.join(top, "archive")
    os.makedirs(a)
    src = itlib.content_dir(top)
    itlib.make_iso(os.path.join(a, "installer.img"), "INSTALLER", src)
    itlib.make_fat(os.path.join(a, "floppy.iso"), 12, "FLOPPY", 1440 << 10)
    itlib.make_ext(os.path.join(a, "root.img"), "ext4", "rootfs")
    shutil.copy(os.path.join(a, "root.img"), os.path.join(a, "root-copy.img"))
    itlib.make_qemu(os.path.join(a, "vm.img"), "qcow2")
    itlib.make_iso(os.path.join(a, "xss-label.iso"), XSS_LABEL, src)
    with open(os.path.join(a, "installer.img"), "rb") as f:
        iso = f.read()
    with open(os.path.join(a, "cut.iso"), "wb") as f:
        f.write(iso[:40000])
    itlib.make_iso(os.path.join(a, XSS_NAME), "NAMED", os.path.join(src, "readme.txt"))
    itlib.make_iso(os.path.join(a, LS_NAME), "LINESEP", os.path.join(src, "data.bin"))
    itlib.make_fat(os.path.join(a, "lossy.tmp"), 12, "LOSSY", 1440 << 10)
    os.rename(os.path.join(a, "lossy.tmp"), os.fsencode(a) + b"/" + LOSSY_NAME)
    return a


def make_error_tree(top):
    """A tree whose scan has errors: as nobody, an image of mode 000 (open
    EACCES) and a directory of mode 000 (walk error); a dangling symlink
    followed (walk error).  Returns (dir, scan as nobody possible)."""
    e = os.path.join(top, "errtree")
    os.makedirs(os.path.join(e, "locked"))
    itlib.make_fat(os.path.join(e, "ok.img"), 12, "OTHER", 720 << 10)
    itlib.make_fat(os.path.join(e, "secret.img"), 12, "SECRET", 360 << 10)
    shutil.copy(os.path.join(e, "ok.img"), os.path.join(e, "locked", "inside.img"))
    os.symlink("nowhere.img", os.path.join(e, "dangling.img"))
    return e, os.geteuid() == 0 and shutil.which("setpriv") is not None


def scan_reports(c, top, archive, errtree, as_nobody):
    rep_a = os.path.join(top, "archive.json")
    p = run("scan", "-q", "-o", rep_a, archive)
    c.eq("scan of the archive: exit 1 (findings)", p.returncode, 1)
    rep_b = os.path.join(top, "errors.jsonl")
    cmd = ["scan", "-q", "--follow-symlinks", "--format", "jsonl", errtree]
    if as_nobody:
        os.chmod(os.path.join(errtree, "secret.img"), 0)
        os.chmod(os.path.join(errtree, "locked"), 0)
        for d in (top, errtree):
            os.chmod(d, 0o755)
        exe = itlib.copy_imgscan(os.path.join(top, "imgscan-copy"))  # the build tree may be closed to nobody
        p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", exe, *cmd],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        os.chmod(os.path.join(errtree, "locked"), 0o755)
    else:
        print("not root (or no setpriv): the error tree is scanned as this user (a dangling link only)")
        p = run(*cmd)
    c.eq("scan of the error tree: exit 2", p.returncode, 2)
    with open(rep_b, "wb") as f:
        f.write(p.stdout)
    with open(rep_a, "rb") as f:
        a = json.load(f)
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    b_images = [x for x in lines if x.get("type") == "image"]
    b_walk = [x for x in lines if x.get("type") == "skipped" and x.get("reason") == "error"]
    return rep_a, rep_b, a, b_images, b_walk


def data_block(page):
    m = re.search(r'<script type="application/json" id="imgscan-data">(.*?)</script>', page, re.S)
    return json.loads(m.group(1)) if m else None


def check_page_file(c, page_path, a, b_images, b_walk, rep_a):
    with open(page_path, "rb") as f:
        raw = f.read()
    page = raw.decode("utf-8")
    c.eq("two <script> elements (the data and the page's own), no other", len(re.findall(r"<script", page, re.I)), 2)
    c.eq("... and two ends", len(re.findall(r"</script", page, re.I)), 2)
    c.true("the XSS label never appears raw", XSS_LABEL not in page)
    c.true("the XSS file name never appears raw", "<img" not in page.lower())
    c.true("no raw U+2028 in the page (escaped in the data)", "\u2028".encode() not in raw)
    c.true("no <link>", "<link" not in page.lower())
    c.true("no http(s) src or href", not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I))
    c.true("no url() or @import in the style", not re.search(r"url\(|@import", page, re.I))
    c.true("a CSP that forbids every fetch", "default-src 'none'" in page and "Content-Security-Policy" in page)
    c.true("tool identity and version shown", "imgscan html " in page and a["tool"]["version"] in page)
    c.true("the library versions shown", all(v["version"] in page for v in a["tool"]["libraries"].values()))
    c.true("start and end shown", a["run"]["start"] in page and a["run"]["end"] in page)
    data = data_block(page)
    c.true("the data block parses as JSON", data is not None)
    if not data:
        return
    imgs = data["images"]
    c.eq("one row per image of both reports", len(imgs), len(a["images"]) + len(b_images))
    c.eq("rows carry their paths and digests", sorted((i["path"], (i["hashes"] or {}).get("xxh128")) for i in imgs),
         sorted((i["path"], (i["hashes"] or {}).get("xxh128")) for i in a["images"] + b_images))
    c.eq("rows name their report", sorted(set(i["r"] for i in imgs)), [0, 1])
    xss = [i for i in imgs if i["path"].endswith("xss-label.iso")]
    labels = [p.get("label") for p in xss[0]["identification"]["probes"]] if xss else []
    c.true("the XSS label is in the data, exact", XSS_LABEL in labels, str(labels))
    lossy = [i for i in imgs if i.get("path_lossy")]
    c.eq("the name that is not UTF-8 keeps its bytes", [base64.b64decode(i["path_b64"])[-len(LOSSY_NAME):]
                                                       for i in lossy], [LOSSY_NAME])
    c.eq("walk errors in the data", len(data["walk_errors"]), len(b_walk))
    c.true("the report's file name is in the page", html.escape(rep_a) in page)


def check_cli(c, top, rep_a, rep_b):
    page = os.path.join(top, "cli.html")
    p = run("--help")
    c.true("imgscan --help names html", b"html" in p.stdout)
    p = run("html", "--help")
    c.eq("html --help: 0", p.returncode, 0)
    for word in (b"REPORT", b"-o", b"Exit status", b"64", b"self-contained"):
        c.true("html --help mentions %s" % word.decode(), word in p.stdout)
    c.eq("no REPORT: 64", run("html", "-o", page).returncode, 64)
    c.eq("unknown option: 64", run("html", "--bogus", rep_a).returncode, 64)
    c.eq("-o names a report: 64", run("html", rep_a, "-o", rep_a).returncode, 64)
    c.eq("-o a directory: 64", run("html", rep_a, "-o", top).returncode, 64)
    dangling = os.path.join(top, "dangling.html")
    os.symlink(os.path.join(top, "absent", "x.html"), dangling)
    c.eq("-o a dangling symlink: 64", run("html", rep_a, "-o", dangling).returncode, 64)
    # a report that is not a report: refused with the reader's message, nothing written
    junk = os.path.join(top, "notes.txt")
    with open(junk, "w") as f:
        f.write("these are my notes, not a report\n")
    with open(page, "w") as f:
        f.write("previous page\n")
    p = run("html", rep_a, junk, "-o", page)
    c.eq("a file that is not a report: 2", p.returncode, 2)
    c.true("... named in the message", b"notes.txt" in p.stderr, p.stderr.decode(errors="replace"))
    with open(page) as f:
        c.eq("... the previous page left as it was", f.read(), "previous page\n")
    with open(rep_b, "rb") as f:
        lines = f.read().splitlines()
    cut = os.path.join(top, "cut.jsonl")
    with open(cut, "wb") as f:
        f.write(b"\n".join(lines[:-1]) + b"\n")
    p = run("html", cut, "-o", page)
    c.eq("a JSON lines report cut short: 2", p.returncode, 2)
    c.true("... says where", b"cut.jsonl" in p.stderr, p.stderr.decode(errors="replace"))
    c.eq("a missing report: 2", run("html", os.path.join(top, "absent.json"), "-o", page).returncode, 2)
    # atomic: a new inode, the mode kept, no temporary file left
    os.chmod(page, 0o640)
    ino = os.stat(page).st_ino
    p = run("html", "-q", rep_a, "-o", page)
    c.eq("rewrite: 0", p.returncode, 0)
    c.eq("... -q: nothing on stderr", p.stderr, b"")
    st = os.stat(page)
    c.true("... replaced by rename (a new inode)", st.st_ino != ino)
    c.eq("... mode kept", st.st_mode & 0o777, 0o640)
    c.eq("... no temporary file left", sorted(n for n in os.listdir(top) if n.startswith(".")), [])
    # through a symlink: the target written, the link stays
    target = os.path.join(top, "real.html")
    link = os.path.join(top, "link.html")
    with open(target, "w") as f:
        f.write("old\n")
    os.symlink(target, link)
    c.eq("-o a symlink: 0", run("html", "-q", rep_a, "-o", link).returncode, 0)
    c.true("... the link stays, its target is the page", os.path.islink(link) and os.path.getsize(target) > 1000)
    # stdin, and a report's file name that is markup
    with open(rep_a, "rb") as f:
        p = run("html", "-", stdin=f)
    c.eq("report from stdin, page to stdout: 0", p.returncode, 0)
    c.true("... a page", p.stdout.startswith(b"<!DOCTYPE html>") and p.stdout.rstrip().endswith(b"</html>"))
    odd = os.path.join(top, "r&<b>'x'.json")
    shutil.copy(rep_a, odd)
    p = run("html", "-q", odd)
    c.true("a report named with markup: escaped", b"r&amp;&lt;b&gt;&#39;x&#39;.json" in p.stdout and b"<b>" not in p.stdout)


# ---- the browser ---------------------------------------------------------

class Browser:
    def __init__(self, top):
        self.exe = shutil.which("chromium") or shutil.which("chromium-browser")
        self.top = top
        self.n = 0

    def run(self, url, *extra, timeout=120):
        """Chromium headless on url; returns (exit status, stdout, seconds)."""
        self.n += 1
        prof = os.path.join(self.top, "chromium-profile-%d" % self.n)
        cmd = [self.exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + prof,
               "--no-first-run", "--disable-extensions", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0", *extra, url]
        t = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        self.console = ""
        try:
            out, err = proc.communicate(timeout=timeout)
            # Chromium's own console lines: what it blocked, whenever the
            # page's listener was registered (events before it are missed).
            self.console = err.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.communicate()
            return -1, b"", timeout
        finally:
            shutil.rmtree(prof, ignore_errors=True)
        return proc.returncode, out, time.monotonic() - t

    def dom(self, page, actions="", *extra):
        url = "file://" + page + ("#selftest=" + actions if actions is not None else "")
        rc, out, secs = self.run(url, "--virtual-time-budget=5000", "--dump-dom", *extra)
        dom = out.decode("utf-8", "replace")
        m = re.search(r'<pre id="selftest">(.*?)</pre>', dom, re.S)
        st = json.loads(html.unescape(m.group(1))) if m else None
        return dom, st, secs


def table_rows(dom, grid):
    """The <tr class="row"> of the table with id grid, as their text."""
    m = re.search(r'<table[^>]* id="%s">(.*?)</table>' % grid, dom, re.S)
    if not m:
        return []
    return re.findall(r'<tr class="row"[^>]*>(.*?)</tr>', m.group(1), re.S)


class Proxy:
    """A listener Chromium is told is its HTTP proxy: records the request
    lines it is sent (and answers nothing)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                self.requests.append(conn.recv(4096).split(b"\r\n")[0].decode(errors="replace"))
            except OSError:
                pass
            conn.close()

    def saw(self, host):
        return [r for r in self.requests if host in r]


def check_browser(c, br, top, page, a, b_images, artifacts):
    imgs = a["images"] + b_images
    n_find = sum(len(i["findings"]) for i in imgs)
    dom, st, secs = br.dom(page, "")
    if st is None:
        return "Chromium ran but the page's test hook wrote nothing (exit status or DOM: %r)" % dom[:300]
    print("the small page: ready in %d ms, Chromium run %.2f s" % (st["ready_ms"], secs))
    c.eq("findings table: one row per finding", len(table_rows(dom, "findings-grid")), n_find)
    c.eq("... as the hook counts", st["findings_rows"], n_find)
    sev = [re.search(r'badge sev-(\w+)', r).group(1) for r in table_rows(dom, "findings-grid")]
    order = ["critical", "high", "medium", "low", "info"]
    c.eq("... most severe first", sev, sorted(sev, key=order.index))
    c.eq("every image in the table", st["images_shown"], len(imgs))
    c.eq("duplicate groups as the report's summary.duplicates", st["duplicate_groups"], len(a["summary"]["duplicates"]))
    n_err = sum(len(i["errors"]) for i in b_images) + len(re.findall(r'"reason": ?"error"', open(
        os.path.join(top, "errors.jsonl")).read()))
    c.eq("errors table: image errors and walk errors", len(table_rows(dom, "errors-grid")), n_err)
    c.eq("no CSP violation", st["violations"], [])
    misnamed = sorted("0:%d" % i["index"] for i in a["images"] if "ISO_MISNAMED" in [f["code"] for f in i["findings"]])
    _, st, _ = br.dom(page, "filter:code:ISO_MISNAMED")
    c.eq("filter by finding narrows the table", sorted(st["image_rows"]), misnamed)
    _, st, _ = br.dom(page, "filter:kind:disk;filter:ext:img")
    want = sorted("%d:%d" % (r, i["index"]) for r, rep in ((0, a["images"]), (1, b_images)) for i in rep
                  if i["kind"] == "disk" and i["extension"] == "img")
    c.eq("filter by kind and extension", sorted(st["image_rows"]), want)
    _, st, _ = br.dom(page, "sort:size:desc")
    keyed = sorted(((r, i) for r, rep in ((0, a["images"]), (1, b_images)) for i in rep),
                   key=lambda ri: (-ri[1]["size"], ri[0], ri[1]["index"]))
    c.eq("sort by size, largest first: the order", st["image_rows"], ["%d:%d" % (r, i["index"]) for r, i in keyed])
    _, st, _ = br.dom(page, "sort:size:asc")
    c.eq("... and smallest first", st["image_rows"][0], "%d:%d" % (keyed[-1][0], keyed[-1][1]["index"]))
    dom, st, _ = br.dom(page, "filter:path:xss-label;details:0")
    c.eq("XSS label: the one image shown", st["images_shown"], 1)
    c.true("... its label shown as text in the detail", html.escape(XSS_LABEL, quote=False) in dom)
    c.eq("... no element injected: two scripts in the DOM", len(re.findall(r"<script", dom)), 2)
    dom, st, _ = br.dom(page, "filter:path:onerror;details:0")
    c.true("XSS file name shown as text", html.escape(XSS_NAME, quote=False) in dom)
    c.eq("... no <img> in the DOM", len(re.findall(r"<img", dom)), 0)
    dom, st, _ = br.dom(page, "filter:path:bad;details:0")
    b64 = [i["path_b64"] for i in a["images"] if i.get("path_lossy")][0]
    c.true("the name that is not UTF-8: marker and base64 shown", "not UTF-8" in dom and b64 in dom)
    dom, st, _ = br.dom(page, "filter:path:line\u2028sep")
    c.eq("U+2028 in a name: found by the filter", st["images_shown"], 1)
    check_csp(c, br, top, page)
    shot = os.path.join(artifacts, "it_html-page.png")
    rc, _, _ = br.run("file://" + page + "#selftest=details:1", "--screenshot=" + shot, "--window-size=1400,2000",
                      "--virtual-time-budget=5000", "--hide-scrollbars")
    c.true("screenshot kept: " + shot, os.path.exists(shot) and os.path.getsize(shot) > 10000)
    shot = os.path.join(artifacts, "it_html-images.png")
    br.run("file://" + page + "#selftest=filter:path:xss-label;details:0;only:images", "--screenshot=" + shot,
           "--window-size=1400,1400", "--virtual-time-budget=5000", "--hide-scrollbars")
    c.true("screenshot of the images table kept: " + shot, os.path.exists(shot) and os.path.getsize(shot) > 10000)
    return None


def check_csp(c, br, top, page):
    """A tampered copy with an external image: the page's CSP blocks it (the
    proxy sees no request); without the CSP the same copy fetches it."""
    with open(page, encoding="utf-8") as f:
        text = f.read()
    probe = '<img src="http://imgscan-csp-probe.invalid/x.png">'
    tampered = os.path.join(top, "tampered.html")
    with open(tampered, "w", encoding="utf-8") as f:
        f.write(text.replace("<body>", "<body>" + probe, 1))
    bare = os.path.join(top, "no-csp.html")
    with open(bare, "w", encoding="utf-8") as f:
        f.write(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text).replace("<body>", "<body>" + probe, 1))
    proxy = Proxy()
    flags = ("--proxy-server=http://127.0.0.1:%d" % proxy.port, "--proxy-bypass-list=<-loopback>")
    _, st, _ = br.dom(page, "", *flags)
    _, st_t, _ = br.dom(tampered, "", *flags)
    c.true("tampered copy: Chromium blocked the outside image (its console)",
           re.search(r"Loading the image 'http://[^']*imgscan-csp-probe[^']*' violates .*img-src", br.console),
           br.console[-2000:])
    c.eq("... and no request reached the network", proxy.saw("imgscan-csp-probe"), [])
    br.dom(bare, "", *flags)
    for _ in range(30):  # the listener's thread may record it a moment later
        if proxy.saw("imgscan-csp-probe"):
            break
        time.sleep(0.1)
    c.true("control: without the CSP the image is requested", len(proxy.saw("imgscan-csp-probe")) > 0,
           str(proxy.requests))
    proxy.sock.close()
    # markup that escaped would still not run: only the page's own script, by its hash
    injected = os.path.join(top, "injected.html")
    with open(injected, "w", encoding="utf-8") as f:
        f.write(text.replace("<body>", "<body><img src=x onerror=\"document.body.setAttribute('data-pwned',1)\">"
                             "<script>document.body.setAttribute('data-pwned',2)</script>", 1))
    dom, st, _ = br.dom(injected, "")
    c.true("injected markup: the page's own script still runs", st is not None and st["images"] > 0)
    c.true("... an injected <script> and onerror= do not", "data-pwned" not in dom.split("<body", 1)[-1].split(">", 1)[0],
           dom[dom.find("<body"):][:200])
    c.true("... Chromium refused both (its console)",
           "Executing inline event handler violates" in br.console
           and "Executing inline script violates" in br.console, br.console[-2000:])


# ---- hand-edited reports --------------------------------------------------

def hostile_report(a, out):
    """A copy of the report edited by hand the way a reader's parser allows:
    findings that are no list, lists holding null or numbers, a severity
    named like a property of every JavaScript object, an empty kind.
    Returns (images, findings the tables can show)."""
    imgs = json.loads(json.dumps(a["images"]))
    base = imgs[0]
    extra = [dict(base, index=9000, findings="not a list", errors={"stage": "open"}),
             dict(base, index=9001, findings=[None, 5, "x", [1], {"code": "ODD_ONE", "severity": "constructor",
                                                                   "message": "m"}], errors=[None]),
             dict(base, index=9002, kind="", findings=[{"code": "", "severity": "__proto__", "message": "m"}],
                  identification={"probes": "abc", "tsk": 5, "partition_table": [None, {"a": 1}]}),
             dict(base, index=9003, kind="disk")]
    doc = dict(a, images=imgs + extra, summary=dict(a["summary"], images=len(imgs) + len(extra)))
    with open(out, "w") as f:
        json.dump(doc, f)
    return len(doc["images"]), sum(len([f for f in i["findings"] if isinstance(f, dict)]) for i in doc["images"]
                                   if isinstance(i["findings"], list))


def chart_total(page, title):
    m = re.search(r'<figcaption>%s</figcaption>(.*?)</figure>' % title, page, re.S)
    return sum(int(v) for v in re.findall(r'<title>[^<]*: (\d+)[^<]*</title>', m.group(1))) if m else -1


def check_hostile(c, br, top, a):
    rep = os.path.join(top, "edited.json")
    n, n_find = hostile_report(a, rep)
    page = os.path.join(top, "edited.html")
    c.eq("a hand-edited report (lists that are not lists, an empty kind): 0", run("html", "-q", rep, "-o", page)
         .returncode, 0)
    with open(page, encoding="utf-8") as f:
        text = f.read()
    c.eq("... every image in the chart of kinds (an empty kind no free slot)", chart_total(text, "Images by kind"), n)
    c.true("... the empty kind shown as (none)", "<title>(none): 1</title>" in text)
    c.eq("... the findings chart counts the findings the tables show", chart_total(text, "Findings by code and severity"),
         n_find)
    if not br:
        return
    dom, st, _ = br.dom(page, "")
    c.true("... the page's script runs to its end", st is not None)
    sev = re.findall(r'badge sev-([^" ]+)', "".join(table_rows(dom, "findings-grid")))
    order = ["critical", "high", "medium", "low", "info", "other"]
    c.true("... a severity \"constructor\" or \"__proto__\" is an unknown one, listed last",
           sev and set(sev) <= set(order) and sev == sorted(sev, key=order.index), str(sev))
    if st:
        c.eq("... every image in the table", st["images_shown"], n)
        c.eq("... the findings that are objects, in the findings table", st["findings"], n_find)
    for k in range(4):
        _, st, _ = br.dom(page, "filter:path:%s;sort:index:desc;details:%d" % (os.path.basename(a["images"][0]["path"]), k))
        c.true("... the detail of edited image %d opens" % k, st is not None and st["images_shown"] >= 5)


def check_lossy_root(c, top):
    """A root whose name is not UTF-8: the page shows its exact bytes, as
    for a path (the report's run.roots_b64 and run.argv_b64)."""
    root = os.fsencode(top) + b"/root\xfename"
    os.makedirs(root)
    itlib.make_fat(os.fsdecode(root + b"/f.img"), 12, "ROOT", 360 << 10)
    rep = os.path.join(top, "lossy-root.json")
    c.eq("scan of a root not UTF-8: 0", run("scan", "-q", "-o", rep, root).returncode, 0)
    p = run("html", rep)
    want = base64.b64encode(os.path.realpath(root)).decode()
    c.true("... the root's exact bytes on the page", ("base64: " + want).encode() in p.stdout)
    c.true("... and the argument's", ("base64: " + base64.b64encode(root).decode()).encode() in p.stdout)


# ---- scale ----------------------------------------------------------------

def synthetic_report(a, n, out):
    """A JSON report of n images: the real report's image objects copied with
    varied paths, sizes, indexes and findings."""
    rnd = random.Random(17)
    base = a["images"]
    with open(out, "w") as f:
        f.write('{"tool":%s,"images":[' % json.dumps(a["tool"]))
        for k in range(n):
            img = json.loads(json.dumps(base[k % len(base)]))
            img.pop("path_b64", None), img.pop("path_lossy", None)
            img["index"] = k
            img["path"] = "archive/dept%02d/box%04d/%s-%06d.%s" % (k % 37, k // 97, os.path.basename(
                img["path"]).rsplit(".", 1)[0][:12], k, img["extension"] or "img")
            img["size"] = rnd.choice([0, 1440 << 10, 700 << 20, 4700 << 20, rnd.randrange(1, 1 << 36)])
            if img["hashes"]:
                img["hashes"]["xxh128"] = "%032x" % rnd.getrandbits(128) if k % 50 else "%032x" % (k % 7)
            f.write(("," if k else "") + json.dumps(img, separators=(",", ":")))
        s = dict(a["summary"], images=n, duplicates=[])
        f.write('],"skipped":[],"run":%s,"summary":%s}' % (json.dumps(a["run"]), json.dumps(s)))


def check_scale(c, br, top, a, n):
    rep = os.path.join(top, "scale.json")
    synthetic_report(a, n, rep)
    page = os.path.join(top, "scale.html")
    t = time.monotonic()
    p = run("html", "-q", rep, "-o", page)
    gen = time.monotonic() - t
    c.eq("%d images: page written" % n, p.returncode, 0)
    size = os.path.getsize(page)
    print("%d images: page %.1f MB (%d bytes per image), written in %.2f s" % (n, size / 1e6, size // n, gen))
    if br:
        _, st, secs = br.dom(page, "")
        c.true("%d images: the page opens" % n, st is not None and st["images"] == n)
        if st:
            c.eq("... 200 rows drawn, not all", len(st["image_rows"]), 200)
            print("%d images: Chromium had it drawn %d ms after it began loading it, whole run (DOM dump included) %.2f s" % (n, st["ready_ms"], secs))
            c.true("... in seconds (script ready under 15 s)", st["ready_ms"] < 15000, str(st["ready_ms"]))


def main():
    top = itlib.setup()
    itlib.skip_without(["genisoimage", "mkfs.vfat", "mkfs.ext4", "qemu-img"], top)
    c = itlib.Checker()
    artifacts = os.path.join(os.path.dirname(itlib.IMGSCAN), "it_html-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    archive = make_archive(top)
    errtree, as_nobody = make_error_tree(top)
    rep_a, rep_b, a, b_images, b_walk = scan_reports(c, top, archive, errtree, as_nobody)
    if as_nobody:
        c.true("the error tree: an open error (EACCES)", any(e.get("errno") == "EACCES" for i in b_images
                                                           for e in i["errors"]), str(b_images))
    c.true("the error tree: walk errors", len(b_walk) >= 1, str(b_walk))
    page = os.path.join(top, "page.html")
    p = run("html", rep_a, rep_b, "-o", page)
    c.eq("html of two reports: 0", p.returncode, 0)
    c.true("... a summary line on stderr", b"imgscan html:" in p.stderr, p.stderr.decode(errors="replace"))
    check_page_file(c, page, a, b_images, b_walk, rep_a)
    pages = os.path.join(top, "pages")
    os.makedirs(pages)
    check_cli(c, pages, rep_a, rep_b)
    br = Browser(top) if shutil.which("chromium") or shutil.which("chromium-browser") else None
    why = None if br else "no chromium on PATH"
    if br:
        rc, out, _ = br.run("about:blank", "--dump-dom", timeout=60)
        if rc != 0 or b"<html" not in out:
            why, br = "chromium cannot start here (exit %d)" % rc, None
    if br:
        why = check_browser(c, br, top, page, a, b_images, artifacts)
        shutil.copy(page, os.path.join(artifacts, "it_html-page.html"))
    check_hostile(c, br if not why else None, top, a)
    check_lossy_root(c, top)
    check_scale(c, br if not why else None, top, a, int(os.environ.get("IMGSCAN_HTML_SCALE", "20000")))
    shutil.rmtree(top, ignore_errors=True)
    if why and not c.failures:
        print("%d checks, 0 failures; the browser checks skipped: %s" % (c.checks, why))
        sys.exit(77)
    c.done()


if __name__ == "__main__":
    main()
