# memlens top-level build.  One set of objects feeds the shared library, the
# CLI and the tests.  `make help` lists the targets.
CC      ?= gcc
PREFIX  ?= /usr/local
BUILD   ?= build
OPT     ?= -O2
SAN     ?=
CFLAGS_COMMON = -std=gnu11 $(OPT) -g -Wall -Wextra -MMD -MP -Iinclude -Isrc $(SAN)
# The runtime keeps no frame pointer (every unwinder it uses reads
# .eh_frame) and gets no straight-line vectorising: on the hooks' paths both
# cost instructions (a register saved, the ring of frees' five stores packed
# into vector registers first).
RT_CFLAGS = $(CFLAGS_COMMON) -fPIC -fvisibility=hidden -fno-tree-slp-vectorize \
            -ftls-model=initial-exec -fno-stack-protector -D_GNU_SOURCE
RT_LDLIBS = -ldl -lpthread -lgcc_s -lm

# The runtime: every source in its folders (README "Layout"), and init.c.
RT_DIRS = base interpose heap space allocators query site ext profile
RT_SRCS = src/init.c $(foreach d,$(RT_DIRS),$(wildcard src/$(d)/*.c))
RT_OBJS = $(RT_SRCS:%.c=$(BUILD)/obj/%.o)

# The types module: DWARF -> uniqtypes with libdw, dlopen'ed by the runtime
# on the first type query (src/types/types_module.h).
TYPES_SRCS = $(wildcard src/types/*.c)
TYPES_OBJS = $(TYPES_SRCS:%.c=$(BUILD)/obj/%.o)
TYPES_LIB = $(BUILD)/lib/libmemlens-types.so
TYPES_LDLIBS = -ldw -lelf -lpthread

# memlens-cc: libclang analysis of allocation sites, then the real compiler.
# libclang is dlopen'ed on first use (src/cc/clang_dl.c), not linked.
LLVM_DIR ?= /usr/lib/llvm-14
CC_TOOL = $(BUILD)/bin/memlens-cc
CC_TOOL_SRCS = $(wildcard src/cc/*.c)

LIB = $(BUILD)/lib/libmemlens.so
CLI = $(BUILD)/bin/memlens
VERSION = 0.1.0

# The scripts and styles of `memlens report --format html` (html.c reads
# them at run time from share/memlens/ beside bin/): the npm libraries of
# web/package.json, installed by `make deps' (npm ci), and web/'s own files,
# bundled into one file by web/bundle.mjs.  Without web/node_modules the
# build goes on without it and says so; the html format then says what is
# missing.
HTML_ASSET = $(BUILD)/share/memlens/html-report.html
WEB_SRCS = web/bundle.mjs web/body.html web/report.css web/common.js web/report.js web/diff.js \
           web/package-lock.json

.PHONY: all deps check demo install bench soak clean help asan-check fuzz
HDRS = $(BUILD)/include/memlens.h $(BUILD)/include/allocs.h
all: $(LIB) $(TYPES_LIB) $(CLI) $(CC_TOOL) $(BUILD)/lib/pkgconfig/memlens.pc $(HDRS) $(HTML_ASSET)

$(HTML_ASSET): $(WEB_SRCS) $(wildcard web/node_modules/.package-lock.json)
	@mkdir -p $(dir $@)
	@if [ -f web/node_modules/.package-lock.json ]; then \
		echo "node web/bundle.mjs $@"; node web/bundle.mjs $@; \
	else \
		echo "memlens: web/node_modules missing (run \`make deps'): $@ not made, --format html will not work" >&2; \
	fi

# The build tree mirrors the install layout, so its memlens.pc works too.
$(BUILD)/include/%.h: include/%.h
	@mkdir -p $(dir $@)
	cp $< $@

help:
	@echo "make            build lib/libmemlens.so and bin/memlens into $(BUILD)/"
	@echo "make deps       install the Debian packages the build and tests need"
	@echo "make check      run all tests (last line: N passed, N failed)"
	@echo "make demo       show memlens on a small program and on python3"
	@echo "make install PREFIX=DIR"
	@echo "make bench      run the benchmarks (ratios against plain runs)"
	@echo "make asan-check unit tests with memlens built under ASan/UBSan, then make fuzz"
	@echo "make fuzz       each libFuzzer target in tests/fuzz/ for FUZZ_TIME seconds (60)"

# Each object's header dependencies come from the compiler (-MMD: a .d file
# beside it), so a change to one header rebuilds only its includers.
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -c $< -o $@

# The CLI's and memlens-cc's own objects: not position-independent, and
# memlens-cc sees libclang's headers.
CLI_CFLAGS = $(CFLAGS_COMMON) -D_GNU_SOURCE -Isrc/types
$(BUILD)/obj/src/cli/%.o: src/cli/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -DMEMLENS_VERSION_STR='"$(VERSION)"' -c $< -o $@
$(BUILD)/obj/src/cc/%.o: src/cc/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -I$(LLVM_DIR)/include -DCC_LIBCLANG='"$(LLVM_DIR)/lib/libclang.so"' -c $< -o $@

$(LIB): $(RT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libmemlens.so -Wl,-z,nodelete -o $@ $(RT_OBJS) $(RT_LDLIBS) $(SAN)

$(TYPES_LIB): $(TYPES_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libmemlens-types.so -o $@ $(TYPES_OBJS) $(TYPES_LDLIBS) $(SAN)

# The CLI: run, report (reads profiles; libdw symbolizes, zlib gzips pprof),
# types and sites (the types module's files, linked in), and its output
# files by the runtime's rules (outfile_rules.o and the syscalls it makes).
CLI_SRCS = $(wildcard src/cli/*.c src/cli/report/*.c)
CLI_OBJS = $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_RT_OBJS = $(BUILD)/obj/src/base/outfile_rules.o $(BUILD)/obj/src/base/prim.o
CLI_LDLIBS = -ldw -lelf -lz -ldl -lpthread
$(CLI): $(CLI_OBJS) $(TYPES_OBJS) $(CLI_RT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(CLI_OBJS) $(TYPES_OBJS) $(CLI_RT_OBJS) $(CLI_LDLIBS)

CC_TOOL_OBJS = $(CC_TOOL_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/src/types/sites_table.o
$(CC_TOOL): $(CC_TOOL_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(CC_TOOL_OBJS) -ldl -lelf

$(BUILD)/lib/pkgconfig/memlens.pc: memlens.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@VERSION@|$(VERSION)|' $< > $@

deps:
	@scripts/deps.sh install

# make check, asan-check, fuzz, demo and soak install missing packages first, and only
# then build (under -j too: the build needs web/node_modules).
deps-if-missing:
	@scripts/deps.sh check || scripts/deps.sh install

check: deps-if-missing
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) tests/run_tests.sh

ASAN_BUILD ?= build-asan
asan-check: deps-if-missing
	$(MAKE) BUILD=$(ASAN_BUILD) SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" all
	@BUILD=$(ASAN_BUILD) MEMLENS_TEST_ASAN=1 tests/run_tests.sh unit
	$(MAKE) fuzz

# libFuzzer targets (tests/fuzz/*.c, clang-14), each run for FUZZ_TIME seconds;
# their seeds are made with this build's memlens.
FUZZ_TIME ?= 60
fuzz: deps-if-missing
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run.sh

demo: deps-if-missing
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/demo.sh

soak: deps-if-missing
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) tests/run_tests.sh soak

bench: all
	@BUILD=$(BUILD) bench/run.sh

install: all
	install -d $(PREFIX)/bin $(PREFIX)/lib/pkgconfig $(PREFIX)/include
	install -m 755 $(CLI) $(PREFIX)/bin/memlens
	install -m 755 $(CC_TOOL) $(PREFIX)/bin/memlens-cc
	install -m 755 $(LIB) $(PREFIX)/lib/libmemlens.so
	install -m 755 $(TYPES_LIB) $(PREFIX)/lib/libmemlens-types.so
	install -m 644 include/memlens.h include/allocs.h $(PREFIX)/include/
	@if [ -f $(HTML_ASSET) ]; then \
		echo "install -m 644 $(HTML_ASSET) $(PREFIX)/share/memlens/"; \
		install -d $(PREFIX)/share/memlens && install -m 644 $(HTML_ASSET) $(PREFIX)/share/memlens/; \
	else \
		echo "memlens: $(HTML_ASSET) missing (run \`make deps && make'): --format html will not work" >&2; \
	fi
	sed -e 's|@VERSION@|$(VERSION)|' memlens.pc.in > $(PREFIX)/lib/pkgconfig/memlens.pc

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

-include $(wildcard $(BUILD)/obj/src/*.d $(BUILD)/obj/src/*/*.d $(BUILD)/obj/src/*/*/*.d)
