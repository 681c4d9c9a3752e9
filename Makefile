# memlens top-level build.  One set of objects feeds the shared library, the
# CLI and the tests.  `make help` lists the targets.
CC      ?= gcc
PREFIX  ?= /usr/local
BUILD   ?= build
OPT     ?= -O2
SAN     ?=
CFLAGS_COMMON = -std=gnu11 $(OPT) -g -Wall -Wextra -Iinclude -Isrc $(SAN)
RT_CFLAGS = $(CFLAGS_COMMON) -fPIC -fvisibility=hidden -fno-omit-frame-pointer \
            -ftls-model=initial-exec -fno-stack-protector -D_GNU_SOURCE
RT_LDLIBS = -ldl -lpthread -lgcc_s -lm

RT_SRCS = src/prim.c src/diag.c src/options.c src/arena.c src/thread.c \
          src/chunkindex.c src/bootstrap.c src/site.c src/frames.c src/interpose_malloc.c src/interpose_foreign.c \
          src/interpose_exit.c src/stats.c src/query.c src/describe.c src/elfsym.c src/allocators/malloc.c src/init.c \
          src/regions.c src/objects.c src/hierarchy.c src/interpose_mmap.c src/print_maps.c \
          src/custom.c src/observe.c src/wrappers.c src/outfile.c src/profile.c src/interpose_exec.c \
          src/uniqtype.c src/types_query.c src/walk.c
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

.PHONY: all deps check demo install bench soak clean help asan-check fuzz
HDRS = $(BUILD)/include/memlens.h $(BUILD)/include/allocs.h
all: $(LIB) $(TYPES_LIB) $(CLI) $(CC_TOOL) $(BUILD)/lib/pkgconfig/memlens.pc $(HDRS)

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

$(BUILD)/obj/%.o: %.c $(wildcard src/*.h src/types/*.h include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -c $< -o $@

$(LIB): $(RT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libmemlens.so -Wl,-z,nodelete -o $@ $(RT_OBJS) $(RT_LDLIBS) $(SAN)

$(TYPES_LIB): $(TYPES_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libmemlens-types.so -o $@ $(TYPES_OBJS) $(TYPES_LDLIBS) $(SAN)

# The CLI: run, report (reads profiles; libdw symbolizes, zlib gzips pprof),
# types and sites (the types module's files, linked in).
CLI_SRCS = src/cli/memlens.c src/cli/output.c src/cli/report.c src/cli/report_formats.c src/cli/types.c src/cli/sites.c
CLI_LDLIBS = -ldw -lelf -lz -ldl -lpthread
$(CLI): $(CLI_SRCS) $(TYPES_SRCS) $(wildcard src/cli/*.h src/types/*.h) src/profile_format.h src/number.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -D_GNU_SOURCE -Isrc/types -DMEMLENS_VERSION_STR='"$(VERSION)"' -o $@ $(CLI_SRCS) $(TYPES_SRCS) $(CLI_LDLIBS)

$(CC_TOOL): $(CC_TOOL_SRCS) $(wildcard src/cc/*.h src/types/*.h) src/types/sites_table.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -D_GNU_SOURCE -Isrc/types -I$(LLVM_DIR)/include -DCC_LIBCLANG='"$(LLVM_DIR)/lib/libclang.so"' \
		-o $@ $(CC_TOOL_SRCS) src/types/sites_table.c -ldl -lelf

$(BUILD)/lib/pkgconfig/memlens.pc: memlens.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@VERSION@|$(VERSION)|' $< > $@

deps:
	@scripts/deps.sh install

# make check and make demo install missing packages first.
deps-if-missing:
	@scripts/deps.sh check || scripts/deps.sh install

check: deps-if-missing all
	@BUILD=$(BUILD) tests/run_tests.sh

asan-check:
	$(MAKE) BUILD=build-asan SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" all
	@BUILD=build-asan MEMLENS_TEST_ASAN=1 tests/run_tests.sh unit
	$(MAKE) fuzz

# libFuzzer targets (tests/fuzz/*.c, clang-14), each run for FUZZ_TIME seconds;
# their seeds are made with this build's memlens.
FUZZ_TIME ?= 60
fuzz: deps-if-missing all
	@BUILD=$(BUILD) FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run.sh

demo: deps-if-missing all
	@BUILD=$(BUILD) scripts/demo.sh

soak: deps-if-missing all
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
	sed -e 's|@VERSION@|$(VERSION)|' memlens.pc.in > $(PREFIX)/lib/pkgconfig/memlens.pc

clean:
	rm -rf build build-asan
