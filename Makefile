# imgscan: the two commands a new user runs on a fresh Debian 12 machine.
#   make scan [ARCHIVE=/some/dir] [REPORT=file]  install, build, scan (a demo archive by default)
#   make test                                    install, build, run the whole test suite
#   make bench [BENCH_DIR=/tmp/imgscan-bench]    benchmark against the reference tools
#   make bench QUICK=1                           the cold and warm ratios alone (a few minutes)
BUILD      ?= build
REPORT     ?= $(BUILD)/report.json
DEMO       ?= $(BUILD)/demo-archive
BENCH_DIR  ?= /tmp/imgscan-bench

# Debian packages: to build, and to make real images for the demo and tests.
BUILD_DEPS = build-essential cmake pkg-config liburing-dev libtsk-dev libxxhash-dev libcjson-dev libssl-dev libsqlite3-dev libpq-dev libarchive-dev libmagic-dev libqcow-dev libvmdk-dev libvhdi-dev libewf-dev clang libclang-rt-dev
IMAGE_DEPS = xxhash genisoimage xorriso isolinux syslinux-utils dosfstools e2fsprogs ntfs-3g mtools \
             fdisk gdisk qemu-utils ewf-tools udftools exfatprogs sleuthkit util-linux \
             python3 gzip xz-utils zstd bzip2 zip p7zip-full time btrfs-progs xfsprogs \
             f2fs-tools squashfs-tools hfsutils fuse3 libfuse3-dev \
             cpio mkbootimg android-sdk-libsparse-utils u-boot-tools cryptsetup-bin lz4 device-tree-compiler erofs-utils \
             python3-jsonschema python3-rdflib postgresql \
             slurm-wlm munge parallel yamllint shellcheck valgrind chromium
BENCH_DEPS = fio b3sum hashdeep rhash file gnuplot-nox

.PHONY: all deps build scan test bench demo clean

all: build

deps:
	@sh tests/install-deps.sh $(BUILD_DEPS) $(IMAGE_DEPS)

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j2

demo: build
	@python3 tests/make_demo.py $(DEMO)

# Exit status 1 (findings, e.g. misnamed images) is a normal outcome of a scan.
scan: build
	@if [ -z "$(ARCHIVE)" ]; then python3 tests/make_demo.py $(DEMO); fi
	@$(BUILD)/imgscan scan -o $(REPORT) $(if $(ARCHIVE),$(ARCHIVE),$(DEMO)); rc=$$?; \
	  echo "report: $(REPORT) (exit status $$rc: 0 clean, 1 findings, 2 errors)"; \
	  [ $$rc -le 1 ]

test: build
	@cd $(BUILD) && ctest --output-on-failure -j2

bench: build
	@[ -c /dev/null ] || { echo "make bench: /dev/null is not a character device; restore it first (rm /dev/null && mknod -m 666 /dev/null c 1 3)" >&2; exit 1; }
	@sh tests/install-deps.sh $(BENCH_DEPS)
	@python3 bench/bench.py --dir $(BENCH_DIR) --imgscan $(BUILD)/imgscan $(if $(QUICK),--quick)

clean:
	rm -rf $(BUILD)
