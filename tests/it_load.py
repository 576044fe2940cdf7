#!/usr/bin/env python3
"""imgscan load: reports into SQLite and into a real PostgreSQL server.

The demo archive (real images of every kind, made by real tools) plus a
name that is not UTF-8, an empty file and a symlink is scanned as a JSON
document (--hash md5,sha256) and as JSON lines; both reports are loaded in
one call into SQLite (Python's sqlite3 reads it back) and into a
PostgreSQL server the test starts itself (Debian's postgresql: initdb and
pg_ctl on a unix socket in a temporary directory; psql reads it back;
skipped, exit 77, only when no server can run here).  In both, every
table is compared with the reports: runs, images, digests, findings,
partitions and file systems (ours and TSK's), skipped entries, and the
duplicates view with the groups of equal XXH128.  The README's ready
queries run in both and give the expected rows.

Then: loading the same reports again changes nothing (idempotent by run
id); a JSON lines report with a bad field on line 5, a JSON document cut
short, and a report naming one image index twice (which only the database
notices, at the commit) each fail with a message saying where, and leave
every table as it was (transactional), while a good report given in the
same call is loaded; `scan --format jsonl | load -` loads from a pipe;
the SQLite file must be a regular file with one name that is ours (a
symlink, a FIFO, the --state catalog, a newer database are refused and
left untouched); PostgreSQL tables named runs that are not ours are left
alone; usage errors exit 64; a password in the URI is not printed."""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TABLES = ["runs", "images", "digests", "findings", "partitions", "filesystems", "errors", "skipped"]


def run(*args, timeout=300, **kw):
    return subprocess.run([itlib.IMGSCAN, *[a if isinstance(a, bytes) else str(a) for a in args]],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, **kw)


def load(db, *reports, **kw):
    p = run("load", "--db", db, *reports, **kw)
    return p.returncode, p.stderr.decode(errors="replace")


# ---- reading the database back -------------------------------------------

class Sqlite:
    def __init__(self, path):
        self.spec = "sqlite:" + path
        self.path = path

    def q(self, sql):
        con = sqlite3.connect(self.path)
        try:
            return [tuple("" if v is None else str(v) for v in row) for row in con.execute(sql)]
        finally:
            con.close()


class Postgres:
    def __init__(self, uri):
        self.spec = uri

    def q(self, sql):
        p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1",
                            self.spec, "-c", sql], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if p.returncode:
            raise RuntimeError("psql: %s\n%s" % (p.stderr.decode(errors="replace"), sql))
        rows = [tuple(line.split("\x1f")) for line in p.stdout.decode().split("\n") if line != ""]
        return [tuple({"t": "1", "f": "0"}.get(v, v) for v in r) for r in rows]


def counts(db):
    return {t: db.q("SELECT count(*) FROM %s" % t)[0][0] for t in TABLES}


# ---- what the reports say --------------------------------------------------

def read_report(path):
    """(run object, images, skipped, format) of a JSON or JSON lines report."""
    with open(path) as f:
        text = f.read()
    if text.startswith('{"type":"run"'):
        lines = [json.loads(l) for l in text.splitlines() if l.strip()]
        return (lines[0]["run"], [l for l in lines if l["type"] == "image"],
                [l for l in lines if l["type"] == "skipped"], "jsonl")
    doc = json.loads(text)
    return doc["run"], doc["images"], doc["skipped"], "json"


def s(v):
    return "" if v is None else str(int(v) if isinstance(v, bool) else v)


def expected(reports):
    e = {k: set() for k in ["runs", "images", "digests", "findings", "partitions", "filesystems", "skipped",
                            "duplicates", "ntfs"]}
    for path in reports:
        run_, images, skipped, fmt = read_report(path)
        rid = run_["id"]
        e["runs"].add((rid, fmt, s(len(images))))
        groups = {}
        for im in images:
            i = s(im["index"])
            e["images"].add((rid, i, im["path"], s(im.get("path_b64")), im["kind"], s(im["misnamed"]),
                             s(im["suggested_name"]), s(im["size"])))
            for alg, v in (im["hashes"] or {}).items():
                e["digests"].add((rid, i, alg, v))
            inside = im.get("inside") or {}
            if inside.get("xxh128"):
                e["digests"].add((rid, i, "inside_xxh128", inside["xxh128"]))
            for f in im["findings"]:
                e["findings"].add((rid, i, f["code"], f["severity"]))
            ident, tsk = im["identification"], im["identification"]["tsk"]
            for owner in (ident, inside):
                for p in ((owner.get("partition_table") or {}).get("partitions") or []):
                    e["partitions"].add((rid, i, "imgscan", s(p["number"]), s(p["start"]), s(p["length"])))
                for p in owner.get("probes") or []:
                    if p["class"] in ("filesystem", "optical"):
                        e["filesystems"].add((rid, i, "imgscan", p["name"], s(p["offset"])))
            for p in ((tsk.get("volume_system") or {}).get("partitions") or []):
                e["partitions"].add((rid, i, "tsk", s(p["address"]), s(p["start"]), s(p["length"])))
            for f in tsk.get("filesystems") or []:
                e["filesystems"].add((rid, i, "tsk", f["type"], s(f["offset"])))
                if f["type"] == "ntfs":
                    e["ntfs"].add(im["path"])
            if any(p["name"] == "ntfs" for p in ident["probes"]):
                e["ntfs"].add(im["path"])
            if im["hashes"] and im["size"] > 0:
                groups.setdefault(im["hashes"]["xxh128"], []).append(i)
        for h, members in groups.items():
            if len(members) > 1:
                for i in members:
                    e["duplicates"].add((rid, h, i, s(len(members))))
        for n, sk in enumerate(skipped):
            e["skipped"].add((rid, s(n), sk["path"], sk["reason"]))
    return e


QUERIES = {
    "runs": "SELECT run_id, report_format, images FROM runs",
    "images": "SELECT r.run_id, i.idx, i.path, i.path_b64, i.kind, CASE WHEN i.misnamed THEN 1 ELSE 0 END,"
              " i.suggested_name, i.size FROM images i JOIN runs r ON r.run_key = i.run_key",
    "digests": "SELECT r.run_id, d.idx, d.algorithm, d.value FROM digests d JOIN runs r ON r.run_key = d.run_key",
    "findings": "SELECT r.run_id, f.idx, f.code, f.severity FROM findings f JOIN runs r ON r.run_key = f.run_key",
    "partitions": "SELECT r.run_id, p.idx, p.source, p.number, p.start, p.length FROM partitions p"
                  " JOIN runs r ON r.run_key = p.run_key",
    "filesystems": "SELECT r.run_id, f.idx, f.source, f.type, f.byte_offset FROM filesystems f"
                   " JOIN runs r ON r.run_key = f.run_key",
    "skipped": "SELECT r.run_id, k.seq, k.path, k.reason FROM skipped k JOIN runs r ON r.run_key = k.run_key",
    "duplicates": "SELECT run_id, xxh128, idx, copies FROM duplicates",
    "ntfs": "SELECT DISTINCT s.path FROM scanned s JOIN filesystems f ON f.run_key = s.run_key AND f.idx = s.idx"
            " WHERE f.type = 'ntfs'",
}


def check_tables(c, db, want, label):
    for name, sql in QUERIES.items():
        got = db.q(sql)
        if name == "ntfs":
            got = {r[0] for r in got}
        else:
            c.eq("%s: %s has no row twice" % (label, name), len(got), len(set(got)))
            got = set(got)
        c.eq("%s: %s as in the reports" % (label, name), sorted(got), sorted(want[name]))
        c.true("%s: %s not empty" % (label, name), name in ("skipped",) or len(got) > 0)


def readme_queries():
    """The SQL blocks of the README's section on loading."""
    with open(os.path.join(HERE, "..", "README.md")) as f:
        text = f.read()
    sec = text.split("## Loading reports into a database", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", sec, re.S)


def check_readme_queries(c, db, label, game_path, day):
    qs = readme_queries()
    c.true("README has ready queries", len(qs) >= 4, str(len(qs)))
    for sql in qs:
        title = sql.strip().splitlines()[0]
        sql = sql.replace("/archive/cds/game.bin", game_path).replace("2026-11-02", day)
        try:
            rows = db.q(sql)
        except Exception as e:  # noqa: BLE001
            c.true("%s: README query runs: %s" % (label, title), False, str(e))
            continue
        c.true("%s: README query gives rows: %s" % (label, title), len(rows) > 0)
        flat = " ".join(" ".join(r) for r in rows)
        if "NTFS" in title:
            c.true("%s: %s names windows.raw" % (label, title), "windows.raw" in flat, flat)
        if "misnamed ISO" in title:
            c.true("%s: %s names backup-2019.img" % (label, title), "backup-2019.img" in flat, flat)
        if "twice" in title:
            c.true("%s: %s names install-disc.iso" % (label, title), "install-disc.iso" in flat, flat)


# ---- reports that must not load ------------------------------------------

def with_new_run_id(text):
    old = re.search(r'"id":"([0-9a-f-]{36})"', text).group(1)
    return text.replace(old, str(uuid.uuid4()))


def bad_reports(top, r_json, r_jsonl):
    """{name: (path, what the message must say)}"""
    out = {}
    with open(r_jsonl) as f:
        lines = with_new_run_id(f.read()).splitlines(keepends=True)
    lines[4] = re.sub(r'"size":\d+', '"size":"big"', lines[4], count=1)
    out["bad-field.jsonl"] = ("line 5", "size")
    with open(os.path.join(top, "bad-field.jsonl"), "w") as f:
        f.writelines(lines)
    with open(r_json) as f:
        text = with_new_run_id(f.read())
    with open(os.path.join(top, "cut.json"), "w") as f:
        f.write(text[:len(text) // 2])
    out["cut.json"] = ("line", "")
    doc = json.loads(text)
    doc["images"][1]["index"] = doc["images"][0]["index"]
    with open(os.path.join(top, "twice.json"), "w") as f:
        json.dump(doc, f)
    out["twice.json"] = ("images", "")
    return {os.path.join(top, k): v for k, v in out.items()}


def check_atomic(c, db, label, bad, good):
    before = counts(db)
    for path, (where, field) in bad.items():
        rc, err = load(db.spec, path)
        name = os.path.basename(path)
        c.eq("%s: %s is refused (exit 2)" % (label, name), rc, 2)
        c.true("%s: %s: the message says where" % (label, name), where in err and field in err, err)
        c.true("%s: %s: nothing of it was loaded" % (label, name), "nothing of it was loaded" in err, err)
        c.eq("%s: %s left every table as it was" % (label, name), counts(db), before)
    # one call: the bad ones fail, the good one is loaded
    rc, err = load(db.spec, *bad, good)
    c.eq("%s: a call with bad reports and a good one exits 2" % label, rc, 2)
    after = counts(db)
    c.eq("%s: ...and loads the good one" % label, int(after["runs"]), int(before["runs"]) + 1)


def check_idempotent(c, db, label, reports):
    before = counts(db)
    rc, err = load(db.spec, *reports)
    c.eq("%s: loading the same reports again exits 0" % label, rc, 0)
    c.eq("%s: ...says so for each" % label, err.count("in the database already"), len(reports))
    c.eq("%s: ...and changes nothing" % label, counts(db), before)


def check_pipe(c, db, label, archive):
    before = int(counts(db)["runs"])
    scan = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--format", "jsonl", archive], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    p = subprocess.run([itlib.IMGSCAN, "load", "--db", db.spec, "-"], stdin=scan.stdout, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    scan.stdout.close()
    scan.wait(timeout=300)
    c.eq("%s: scan | load - exits 0" % label, p.returncode, 0)
    c.eq("%s: ...and loads the run" % label, int(counts(db)["runs"]), before + 1)
    c.true("%s: ...naming stdin" % label, "-: run " in p.stderr.decode(), p.stderr.decode())


def check_concurrent(c, db, label, report):
    """Three loads of one report at once: all succeed, one run is in."""
    before = int(counts(db)["runs"])
    procs = [subprocess.Popen([itlib.IMGSCAN, "load", "--db", db.spec, report], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for _ in range(3)]
    rcs = [p.wait(timeout=300) for p in procs]
    errs = [p.stderr.read().decode(errors="replace") for p in procs]
    c.eq("%s: three loads of one report at once all exit 0" % label, rcs, [0, 0, 0])
    c.eq("%s: ...one of them loads it" % label, sum(" loaded: " in e for e in errs), 1)
    c.eq("%s: ...and the run is in once" % label, int(counts(db)["runs"]), before + 1)


# ---- the SQLite file is guarded --------------------------------------------

def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_sqlite_guard(c, top, report, archive):
    victim = os.path.join(top, "victim.txt")
    with open(victim, "w") as f:
        f.write("not a database\n")
    h = sha(victim)
    link = os.path.join(top, "link.db")
    os.symlink(victim, link)
    rc, err = load("sqlite:" + link, report)
    c.eq("a symlink as the database: exit 2", rc, 2)
    c.true("...says it is a symlink", "symbolic link" in err, err)
    rc, err = load("sqlite:" + victim, report)
    c.eq("a text file as the database: exit 2", rc, 2)
    c.eq("...left untouched", sha(victim), h)
    fifo = os.path.join(top, "fifo.db")
    os.mkfifo(fifo)
    rc, err = load("sqlite:" + fifo, report, timeout=60)
    c.eq("a FIFO as the database: exit 2 (not opened)", rc, 2)
    catalog = os.path.join(top, "catalog.db")
    run("scan", "-q", "--state", catalog, "-o", os.path.join(top, "state-report.json"), archive)
    h = sha(catalog)
    rc, err = load("sqlite:" + catalog, report)
    c.eq("the --state catalog as the database: exit 2", rc, 2)
    c.true("...not an imgscan database", "not an imgscan database" in err, err)
    c.eq("...left untouched", sha(catalog), h)
    newer = os.path.join(top, "newer.db")
    con = sqlite3.connect(newer)
    con.execute("PRAGMA application_id = %d" % 0x494D4744)
    con.execute("PRAGMA user_version = 2")
    con.execute("CREATE TABLE runs (x)")
    con.commit()
    con.close()
    h = sha(newer)
    rc, err = load("sqlite:" + newer, report)
    c.eq("a database of a newer imgscan: exit 2", rc, 2)
    c.true("...says newer", "newer imgscan" in err, err)
    c.eq("...left untouched", sha(newer), h)


def check_usage(c, report):
    c.eq("load without --db: 64", load_noargs(report), 64)
    rc, err = load("mysql://x/y", report)
    c.eq("load --db mysql://: 64", rc, 64)
    rc, err = load("postgresql://who:s3cret@/nodb?host=/nonexistent-dir&password=hunter2", report)
    c.eq("an unreachable server: exit 2", rc, 2)
    c.true("...the password is not printed", "s3cret" not in err and "hunter2" not in err, err)


def load_noargs(report):
    return run("load", report).returncode


# ---- the whole test --------------------------------------------------------

def make_archive(top):
    archive = os.path.join(top, "archive")
    itlib.sh(sys.executable, os.path.join(HERE, "make_demo.py"), archive)
    shutil.copy(os.path.join(archive, "disks", "floppy.ima"), os.path.join(archive, "disks").encode() + b"/fl\xe9ppy.ima")
    open(os.path.join(archive, "empty.iso"), "w").close()
    os.symlink("cds/install-disc.iso", os.path.join(archive, "link.iso"))
    return archive


def check_all(c, db, label, want, reports, bad, archive, game_path, day):
    r_json, r_jsonl, r_more, r_four = reports
    rc, err = load(db.spec, r_json, r_jsonl)
    c.eq("%s: two reports load (exit 0)" % label, rc, 0)
    c.eq("%s: ...each said" % label, err.count(" loaded: "), 2)
    check_tables(c, db, want, label)
    check_readme_queries(c, db, label, game_path, day)
    check_idempotent(c, db, label, [r_json, r_jsonl])
    check_atomic(c, db, label, bad, r_more)
    check_pipe(c, db, label, archive)
    check_concurrent(c, db, label, r_four)


def main():
    mode = sys.argv[2] if len(sys.argv) > 2 else "sqlite"
    top = itlib.setup()
    c = itlib.Checker()
    try:
        archive = make_archive(top)
        r_json, r_jsonl, r_more, r_four = (os.path.join(top, n) for n in ("r1.json", "r2.jsonl", "r3.json", "r4.json"))
        run("scan", "-q", "--hash", "md5,sha256", "-o", r_json, archive)
        run("scan", "-q", "--format", "jsonl", "-o", r_jsonl, archive)
        run("scan", "-q", "-o", r_more, archive)
        run("scan", "-q", "-o", r_four, archive)
        want = expected([r_json, r_jsonl])
        bad = bad_reports(top, r_json, r_jsonl)
        game = read_report(r_json)[1]
        game_path = [i["path"] for i in game if i["path"].endswith("/cds/game.bin")][0]
        day = read_report(r_json)[0]["start"][:10]

        if mode == "sqlite":
            db = Sqlite(os.path.join(top, "evidence.db"))
            check_all(c, db, "sqlite", want, (r_json, r_jsonl, r_more, r_four), bad, archive, game_path, day)
            check_sqlite_guard(c, top, r_json, archive)
            check_usage(c, r_json)
        else:
            try:
                with itlib.postgres_server() as pg:
                    db = Postgres(pg())
                    check_all(c, db, "postgresql", want, (r_json, r_jsonl, r_more, r_four), bad, archive, game_path, day)
                    foreign = Postgres(pg())
                    foreign.q("CREATE TABLE runs (note text); INSERT INTO runs VALUES ('theirs')")
                    rc, err = load(foreign.spec, r_json)
                    c.eq("postgresql: a database with a runs table not ours: exit 2", rc, 2)
                    c.eq("...left untouched", foreign.q("SELECT note FROM runs"), [("theirs",)])
            except itlib.PostgresUnavailable as e:
                print("skipped: no PostgreSQL server can run here: %s" % e)
                sys.exit(77)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
