#!/usr/bin/env python3
"""--format case: the report as CASE/UCO JSON-LD (report/CASE.md), parsed
by a real JSON-LD parser (Debian's python3-rdflib, run by /usr/bin/python3:
see tests/CMakeLists.txt) and checked with SPARQL against the images and
what real tools say of them.

Images made here by real tools: an ISO (genisoimage), a FAT floppy
(mkfs.vfat), an MBR disk with an ext4 partition (sfdisk, mkfs.ext4), a FAT
image named .iso (misnamed), an empty file, a name that is not UTF-8,
copies of the floppy under names with a double quote, a backslash, a
control character (\x01), '#', '%20' and spaces, and, where FUSE is
available, an image that fails with a read error (faultfs).
Checked: one File per image with its name and size, each odd name exact in
fileName and filePath; its MD5, SHA-256 and
XXH128 equal md5sum's, sha256sum's and xxhsum -H2's; the file systems and
the partition (against sfdisk --json); the misnamed image's Annotation and
suggested name; the action's tool, version, argv, times, objects and
results; the provenance entries of its Configuration (each library equal
to the JSON report's tool.libraries, the kernel to `uname -r`, io_uring to
the JSON report's run.io_uring); CASE.md's duplicates query; and that
every type and property in the graph is in the subset report/CASE.md
documents, with no blank node.  A run stopped by SIGINT (a Sleuth Kit
worker made to hang by imgscan-testhooks, as tests/it_stop.py does) still
writes a whole document: exit status 130, actionStatus "Error".

CASE's SHACL shapes are not checked: neither case-utils nor pyshacl is
packaged by Debian (apt-cache search finds neither), and the suite installs
only Debian packages.  When pyshacl happens to be importable, it is said,
but the shapes themselves are not shipped with it either."""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CASE_MD = os.path.join(HERE, "..", "report", "CASE.md")

try:
    import rdflib
    from rdflib import RDF, XSD, Namespace, URIRef
except ImportError:
    print("python3-rdflib is not installed for %s: skipped" % sys.executable)
    sys.exit(77)

PREFIXES = {
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-configuration": "https://ontology.unifiedcyberontology.org/uco/configuration/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "uco-vocabulary": "https://ontology.unifiedcyberontology.org/uco/vocabulary/",
}
SPARQL_PREFIXES = "".join("PREFIX %s: <%s>\n" % kv for kv in PREFIXES.items())
CORE = Namespace(PREFIXES["uco-core"])
OBS = Namespace(PREFIXES["uco-observable"])
VOCAB = Namespace(PREFIXES["uco-vocabulary"])
# Copies of floppy.img: names JSON, IRIs or a shell could get wrong.
ODD_NAMES = ['quote".img', "back\\slash.img", "ctl\x01char.img", "hash#1.img", "pct%20.img",
             "with  two spaces .img"]


def expand(curie):
    prefix, name = curie.split(":", 1)
    return URIRef(PREFIXES[prefix] + name)


def documented_subset():
    """The classes and properties of report/CASE.md's two subset tables."""
    with open(CASE_MD) as f:
        md = f.read()
    subset = md[md.index("## The subset used"):]
    classes, props = set(), set()
    for table, out in (("| class |", classes), ("| property |", props)):
        rows = subset[subset.index(table):].split("\n\n")[0].splitlines()[2:]
        for row in rows:
            m = re.match(r"^\| `([a-z-]+:[A-Za-z]+)` \|", row)
            if m:
                out.add(expand(m.group(1)))
    return classes, props


def query(g, text):
    return list(g.query(SPARQL_PREFIXES + text))


def make_images(top):
    arch = os.path.join(top, "arch")
    os.makedirs(arch)
    itlib.make_iso(os.path.join(arch, "disc.iso"), "CASEDISC", itlib.content_dir(top))
    itlib.make_fat(os.path.join(arch, "floppy.img"), 12, "FLOPPY", 1440 * 1024)
    itlib.make_mbr_disk(os.path.join(arch, "disk.img"), top, fs="ext4")
    itlib.make_fat(os.path.join(arch, "photos.iso"), 16, "PHOTOS", 16 << 20)  # FAT named .iso
    open(os.path.join(arch, "empty.img"), "wb").close()
    with open(os.path.join(arch.encode(), b"bad\xffname.img"), "wb") as f:
        f.write(b"\x01" * 8192)
    for name in ODD_NAMES:
        shutil.copy(os.path.join(arch, "floppy.img"), os.path.join(arch, name))
    return arch


def scan_case(out, *args):
    argv = [itlib.IMGSCAN, "scan", "-q", "--format", "case", "--hash", "md5,sha256", "-o", out, *args]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    return p, argv


def parse(c, path):
    with open(path, "rb") as f:
        raw = f.read()
    raw.decode("utf-8")  # strict: JSON-LD strings must be UTF-8
    json.loads(raw)
    g = rdflib.Graph()
    g.parse(data=raw.decode(), format="json-ld")
    c.true("the graph has triples", len(g) > 50, str(len(g)))
    return g


def files_by_name(g):
    rows = query(g, """SELECT ?f ?name ?path ?size WHERE {
        ?f a uco-observable:File ; uco-core:hasFacet ?ff .
        ?ff a uco-observable:FileFacet ; uco-observable:fileName ?name ; uco-observable:filePath ?path ;
            uco-observable:sizeInBytes ?size . }""")
    return {str(r.name): r for r in rows}


def check_files(c, g, arch):
    files = files_by_name(g)
    names = sorted(os.fsdecode(n).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                   for n in os.listdir(arch.encode()))
    c.eq("one File per image", sorted(files), names)
    for name, r in files.items():
        real = path_b64(g, r.f) if "\ufffd" in name else os.path.join(arch, name).encode()
        c.eq("%s: sizeInBytes" % name, r.size.toPython(), os.path.getsize(real))
        c.eq("%s: sizeInBytes is xsd:integer" % name, r.size.datatype, XSD.integer)
    return files


def check_odd_names(c, g, arch, files):
    """Each odd name is one File, its fileName and filePath exact."""
    for name in ODD_NAMES:
        r = files.get(name)
        c.true("%r: a File with that exact fileName" % name, r is not None, sorted(files))
        if r is not None:
            c.eq("%r: filePath exact" % name, str(r.path), os.path.join(arch, name))


def check_duplicates_query(c, g, arch):
    """summary.duplicates is not mapped; CASE.md's query finds the groups
    from the Files' XXH128: here the floppy and its copies."""
    with open(CASE_MD) as f:
        blocks = re.findall(r"```sparql\n(.*?)```", f.read(), re.S)
    text = [b for b in blocks if "GROUP BY" in b]
    c.eq("CASE.md has one duplicates query", len(text), 1)
    if len(text) != 1:
        return
    rows = [(str(r.value), int(r.size), int(r.copies)) for r in g.query(text[0])]
    floppy = os.path.join(arch, "floppy.img")
    c.eq("CASE.md's duplicates query: the floppy and its copies", rows,
         [(tool_digest("xxhsum", floppy), os.path.getsize(floppy), 1 + len(ODD_NAMES))])


def config_entries(g, configured):
    rows = query(g, """SELECT ?name ?value WHERE { <%s> uco-configuration:usesConfiguration ?conf .
        ?conf uco-configuration:configurationEntry ?e . ?e uco-configuration:itemName ?name ;
        uco-configuration:itemValue ?value . }""" % configured)
    return {str(r.name): str(r.value) for r in rows}


def configured_tool(g):
    rows = query(g, "SELECT ?t WHERE { ?a a case-investigation:InvestigativeAction ; uco-action:instrument ?t }")
    return rows[0].t if len(rows) == 1 else None


def check_provenance(c, g, arch):
    """The Configuration's library:<name>, kernel and io_uring entries:
    those of the JSON report of the same scan, the kernel `uname -r`."""
    p = subprocess.run([itlib.IMGSCAN, "scan", "-q", "--hash", "md5,sha256", arch], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    rep = json.loads(p.stdout)
    got = config_entries(g, configured_tool(g))
    libs = {k[len("library:"):]: v for k, v in got.items() if k.startswith("library:")}
    want = {k: "%s (%s)" % (v["version"], v["from"]) for k, v in rep["tool"]["libraries"].items()}
    c.true("provenance: the JSON report names libraries", len(want) >= 11, want)
    c.eq("provenance: library entries = the JSON report's tool.libraries", libs, want)
    c.eq("provenance: kernel = uname -r", got.get("kernel"), itlib.sh("uname", "-r").stdout.decode().strip())
    c.eq("provenance: io_uring = the JSON report's run.io_uring", got.get("io_uring"),
         "true" if rep["run"]["io_uring"] else "false")


def path_b64(g, f):
    """The exact bytes of a path that is not UTF-8, from its description."""
    for d in g.objects(f, CORE.description):
        m = re.search(r"exact bytes in base64: (\S+)$", str(d))
        if m:
            return base64.b64decode(m.group(1))
    raise AssertionError("no base64 path for %s" % f)


def tool_digest(tool, path):
    args = ["xxhsum", "-H2", path] if tool == "xxhsum" else [tool, path]
    return itlib.sh(*args).stdout.decode().split()[0]


def check_hashes(c, g, arch, files):
    rows = query(g, """SELECT ?name ?method ?value WHERE {
        ?f a uco-observable:File ; uco-core:hasFacet ?ff, ?cf .
        ?ff uco-observable:fileName ?name .
        ?cf a uco-observable:ContentDataFacet ; uco-observable:hash ?h .
        ?h a uco-types:Hash ; uco-types:hashMethod ?method ; uco-types:hashValue ?value . }""")
    got = {(str(r.name), str(r.method)): r for r in rows}
    for name in ("disc.iso", "floppy.img", "disk.img", "photos.iso", "empty.img"):
        path = os.path.join(arch, name)
        for method, tool in (("MD5", "md5sum"), ("SHA256", "sha256sum"), ("XXH128", "xxhsum")):
            r = got.get((name, method))
            c.true("%s: a %s hash" % (name, method), r is not None)
            if r is None:
                continue
            c.eq("%s: %s equals %s" % (name, method, tool), str(r.value), tool_digest(tool, path))
            c.eq("%s: %s value is xsd:hexBinary" % (name, method), r.value.datatype, XSD.hexBinary)
            want = XSD.string if method == "XXH128" else VOCAB.HashNameVocab
            c.true("%s: %s method's datatype" % (name, method), r.method.datatype in (want, None)
                   and (r.method.datatype is not None or method == "XXH128"), repr(r.method))
    c.true("no SHA1 without --hash sha1", not any(m == "SHA1" for _, m in got))


def contained(g, source):
    """(target, rangeOffset or None) of source's Contained_Within."""
    rows = query(g, """SELECT ?t ?kind ?off WHERE {
        ?r a uco-observable:ObservableRelationship ; uco-core:source <%s> ; uco-core:target ?t ;
           uco-core:kindOfRelationship ?kind ; uco-core:isDirectional true .
        OPTIONAL { ?r uco-core:hasFacet [ uco-observable:rangeOffset ?off ] } }""" % source)
    return [(r.t, str(r.kind), r.off.toPython() if r.off is not None else None) for r in rows]


def filesystems(g, fileobj):
    """[(type, cluster size, container, offset in it)] of the file systems in a File or its partitions."""
    rows = query(g, """SELECT ?fs ?type ?cluster WHERE {
        ?fs a uco-observable:FileSystem ; uco-core:hasFacet ?f .
        ?f a uco-observable:FileSystemFacet ; uco-observable:fileSystemType ?type .
        OPTIONAL { ?f uco-observable:clusterSize ?cluster } }""")
    out = []
    for r in rows:
        for target, kind, off in contained(g, r.fs):
            holder = target
            if (target, RDF.type, OBS.DiskPartition) in g:
                holder = contained(g, target)[0][0]
            if holder == fileobj:
                out.append((str(r.type), r.cluster.toPython() if r.cluster is not None else None, target, off))
    return out


def check_layout(c, g, arch, files):
    iso = filesystems(g, files["disc.iso"].f)
    c.eq("disc.iso: iso9660 in the File at 0, 2048-byte blocks", [(t, b, o) for t, b, _, o in iso],
         [("iso9660", 2048, 0)])
    fl = filesystems(g, files["floppy.img"].f)
    c.eq("floppy.img: fat12 in the File at 0", [(t, o) for t, _, _, o in fl], [("fat12", 0)])
    disk = files["disk.img"].f
    sf = json.loads(itlib.sh("sfdisk", "--json", os.path.join(arch, "disk.img")).stdout)["partitiontable"]
    parts = query(g, """SELECT ?p ?id ?off ?len ?type WHERE {
        ?p a uco-observable:DiskPartition ; uco-core:hasFacet ?f .
        ?f a uco-observable:DiskPartitionFacet ; uco-observable:partitionID ?id ;
           uco-observable:partitionOffset ?off ; uco-observable:partitionLength ?len .
        OPTIONAL { ?f uco-observable:diskPartitionType ?type } }""")
    mine = [r for r in parts if contained(g, r.p) and contained(g, r.p)[0][0] == disk]
    want = [(str(i + 1), p["start"] * sf.get("sectorsize", 512), p["size"] * sf.get("sectorsize", 512),
             "0x%02x" % int(p["type"], 16)) for i, p in enumerate(sf["partitions"])]
    c.eq("disk.img: partitions as sfdisk says", [(str(r.id), r.off.toPython(), r.len.toPython(), str(r.type))
                                                for r in mine], want)
    c.eq("disk.img: partitions Contained_Within the File", [contained(g, r.p)[0][1] for r in mine],
         ["Contained_Within"] * len(mine))
    ext = filesystems(g, disk)
    c.eq("disk.img: ext4 in partition 1 at its start", [(t, o) for t, _, _, o in ext], [("ext4", 0)])
    c.true("disk.img: the ext4 is in the partition", bool(mine) and ext and ext[0][2] == mine[0].p)
    c.eq("empty.img: no file system, no partition", filesystems(g, files["empty.img"].f), [])


def check_findings(c, g, files):
    rows = query(g, """SELECT ?f ?statement ?d WHERE {
        ?a a uco-core:Annotation ; uco-core:object ?f ; uco-core:statement ?statement ;
           uco-core:description ?d . FILTER(STRSTARTS(?d, "suggested name: ")) }""")
    c.eq("one misnamed image, its suggested name", [(r.f, str(r.d)) for r in rows],
         [(files["photos.iso"].f, "suggested name: photos.img")])
    tags = {str(t) for t in g.objects(files["photos.iso"].f, CORE.tag)}
    c.true("photos.iso tagged misnamed", "misnamed" in tags, tags)
    empty = query(g, """SELECT ?tag WHERE { ?a a uco-core:Annotation ; uco-core:object <%s> ;
        uco-core:tag ?tag }""" % files["empty.img"].f)
    c.true("empty.img: an Annotation for the empty file", any(str(r.tag) == "EMPTY_FILE" for r in empty),
           [str(r.tag) for r in empty])


def check_odd_name(c, g, arch, files):
    odd = [n for n in files if "\ufffd" in n]
    c.eq("the name that is not UTF-8, repaired", odd, ["bad\ufffdname.img"])
    if odd:
        exact = path_b64(g, files[odd[0]].f)
        c.eq("its exact bytes in a description", exact, os.path.join(arch.encode(), b"bad\xffname.img"))


def check_action(c, g, argv, arch, files):
    version = itlib.sh(itlib.IMGSCAN, "--version").stdout.decode().splitlines()[0].split()[1]  # "imgscan 0.1.0"
    rows = query(g, """SELECT ?a ?start ?end ?status ?tool ?name ?version ?type WHERE {
        ?a a case-investigation:InvestigativeAction ; uco-action:startTime ?start ; uco-action:endTime ?end ;
           uco-action:actionStatus ?status ; uco-action:instrument ?tool .
        ?tool a uco-tool:ConfiguredTool ; uco-core:name ?name ; uco-tool:version ?version ;
              uco-tool:toolType ?type ; uco-configuration:isConfigurationOf ?plain .
        ?plain a uco-tool:Tool ; uco-tool:version ?version . }""")
    c.eq("one action with its tool", len(rows), 1)
    if not rows:
        return
    a = rows[0]
    c.eq("tool name and version", (str(a.name), str(a.version)), ("imgscan", version))
    c.true("start <= end, xsd:dateTime", a.start.datatype == XSD.dateTime and str(a.start) <= str(a.end))
    c.eq("action status", str(a.status), "Complete/Finish")
    got = config_entries(g, a.tool)
    shown = [os.fsdecode(x).encode("utf-8", "surrogateescape").decode("utf-8", "replace") if isinstance(x, bytes)
             else x for x in argv]
    c.eq("argv, in order", [got.get("argv[%d]" % i) for i in range(len(argv))], shown)
    exact = query(g, """SELECT ?name ?d WHERE { ?e uco-configuration:itemName ?name ;
        uco-configuration:itemDescription ?d }""")
    odd = [x for x in argv if isinstance(x, bytes)]
    c.eq("the argument that is not UTF-8 has its exact bytes",
         [base64.b64decode(str(r.d).split()[-1]) for r in exact], odd)
    c.eq("options: hashes", got.get("option:hashes"), "xxh128,md5,sha256")
    objs = query(g, """SELECT ?path WHERE { <%s> uco-action:object ?o . ?o a uco-observable:FileSystemObject ;
        uco-core:hasFacet [ uco-observable:filePath ?path ] }""" % a.a)
    c.eq("objects: the PATH", [str(r.path) for r in objs], [arch])
    results = {r.f for r in query(g, "SELECT ?f WHERE { <%s> uco-action:result ?f }" % a.a)}
    c.eq("results: every File", results, {r.f for r in files.values()})


def check_subset(c, g, complete):
    """complete: the graph is the main scan's, which uses the whole subset."""
    classes, props = documented_subset()
    c.true("CASE.md lists classes and properties", len(classes) >= 15 and len(props) >= 35,
           (len(classes), len(props)))
    types = set(g.objects(None, RDF.type))
    c.eq("every @type is in CASE.md's subset", sorted(types - classes), [])
    used = set(g.predicates()) - {RDF.type}
    c.eq("every property is in CASE.md's subset", sorted(used - props), [])
    if complete:
        c.eq("CASE.md lists nothing unused", sorted((classes - types) | (props - used)), [])
    blank = {s for s in g.subjects() if isinstance(s, rdflib.BNode)} | \
            {o for o in g.objects() if isinstance(o, rdflib.BNode)}
    c.eq("no blank nodes (UCO 1.x)", len(blank), 0)
    untyped = {s for s in g.subjects() if not (s, RDF.type, None) in g}
    c.eq("every node has a type", sorted(untyped), [])
    bad_ids = [s for s in set(g.subjects()) if not re.search(
        r"/kb/[A-Za-z]+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", str(s))]
    c.eq("every IRI is kb:<Class>-<UUID>", bad_ids, [])


def check_read_error(c, top):
    """An image that fails with a read error (faultfs), when FUSE is here:
    still a File, with no digests and an error Annotation."""
    back = os.path.join(top, "back")
    os.makedirs(back)
    itlib.make_fat(os.path.join(back, "bad.img"), 16, "BAD", 16 << 20)
    out = os.path.join(top, "eio.jsonld")
    try:
        with itlib.faultfs(back, "eio bad.img 1048576 4096\n") as mnt:
            p, _ = scan_case(out, "--no-tsk", mnt)
    except itlib.FuseUnavailable as e:
        print("FUSE unavailable (%s): the read-error image is not checked" % e)
        return
    c.eq("read error: exit status 2", p.returncode, 2)
    g = parse(c, out)
    files = files_by_name(g)
    c.eq("read error: the image is there", sorted(files), ["bad.img"])
    if "bad.img" in files:
        f = files["bad.img"].f
        c.true("read error: tagged error", "error" in {str(t) for t in g.objects(f, CORE.tag)})
        c.eq("read error: no digests", query(g, "SELECT ?h WHERE { <%s> uco-core:hasFacet ?cf . "
                                            "?cf uco-observable:hash ?h }" % f), [])
        errs = query(g, """SELECT ?s WHERE { ?a a uco-core:Annotation ; uco-core:object <%s> ;
            uco-core:tag "error" ; uco-core:statement ?s }""" % f)
        c.true("read error: an error Annotation", any("EIO" in str(r.s) for r in errs), [str(r.s) for r in errs])
    check_subset(c, g, False)


def stop_by_sigint(argv, env):
    """Run argv, SIGINT after 1.5 s; its exit status (None: it hung)."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def check_stopped(c, top):
    """Stopped by SIGINT mid-scan: a Sleuth Kit worker made to hang on
    hangme.img (imgscan-testhooks, built beside imgscan; tests/it_stop.py)
    holds the scan until the signal, so the stop always comes first.  The
    document is still whole: valid JSON-LD, actionStatus "Error", the stop
    in the description, every File a result; exit status 130."""
    hooks = os.path.join(os.path.dirname(os.path.abspath(itlib.IMGSCAN)), "imgscan-testhooks")
    if not os.access(hooks, os.X_OK):
        c.true("imgscan-testhooks is built beside imgscan (for the SIGINT case)", False, hooks)
        return
    d = os.path.join(top, "stop")
    os.makedirs(d)
    itlib.make_fat(os.path.join(d, "first.img"), 12, "FIRST", 1440 * 1024)
    itlib.make_fat(os.path.join(d, "hangme.img"), 16, "HANG", 16 << 20)
    out = os.path.join(top, "stopped.jsonld")
    env = dict(os.environ, IMGSCAN_TEST_TSK_FAULT="hang:hangme")
    status = stop_by_sigint([hooks, "scan", "-q", "--format", "case", "--io", "pread", "--tsk-timeout", "25",
                             "-o", out, d], env)
    c.eq("SIGINT: exit status 130", status, 130)
    if not os.path.exists(out):
        c.true("SIGINT: the document is written", False)
        return
    with open(out, "rb") as f:
        c.true("SIGINT: the document ends whole", f.read().endswith(b"\n]}\n"))
    g = parse(c, out)
    rows = query(g, """SELECT ?a ?status WHERE { ?a a case-investigation:InvestigativeAction ;
        uco-action:actionStatus ?status }""")
    c.eq("SIGINT: one action, status Error", [(str(r.status), r.status.datatype) for r in rows],
         [("Error", VOCAB.ActionStatusTypeVocab)])
    if rows:
        about = [str(x) for x in g.objects(rows[0].a, CORE.description)]
        c.true("SIGINT: the description says it stopped", any("stopped early: SIGINT" in x for x in about), about)
        results = {r.f for r in query(g, "SELECT ?f WHERE { <%s> uco-action:result ?f }" % rows[0].a)}
        c.eq("SIGINT: every File is a result", results, {r.f for r in files_by_name(g).values()})
    c.true("SIGINT: hangme.img is there", "hangme.img" in files_by_name(g), sorted(files_by_name(g)))
    c.eq("SIGINT, --io pread: io_uring false", config_entries(g, configured_tool(g)).get("io_uring"), "false")
    check_subset(c, g, False)


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        try:
            import pyshacl  # noqa: F401
            print("pyshacl is importable, but CASE's shapes are not shipped here: checked against CASE.md")
        except ImportError:
            print("CASE's SHACL shapes (case-utils, pyshacl) are not packaged by Debian: "
                  "checked against the subset report/CASE.md documents")
        arch = make_images(top)
        # A report name that is not UTF-8: argv then is not either.
        out = os.path.join(top.encode(), b"report\xff.jsonld")
        p, argv = scan_case(out, arch)
        c.eq("exit status 1 (findings)", p.returncode, 1)
        c.true("the stderr summary is empty with -q", p.stderr == b"", p.stderr.decode(errors="replace"))
        g = parse(c, out)
        files = check_files(c, g, arch)
        check_hashes(c, g, arch, files)
        check_layout(c, g, arch, files)
        check_findings(c, g, files)
        check_odd_name(c, g, arch, files)
        check_odd_names(c, g, arch, files)
        check_duplicates_query(c, g, arch)
        check_action(c, g, argv, arch, files)
        check_provenance(c, g, arch)
        check_subset(c, g, True)
        check_read_error(c, top)
        check_stopped(c, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
