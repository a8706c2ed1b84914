# tcpcrypt (RFC 8547 TCP-ENO + RFC 8548 tcpcrypt) on an eBPF/AF_XDP data path.
#
#   make            build BPF objects, skeletons, tcpcryptd, tcpcryptctl
#   make check      unit tests (plain and ASan/UBSan), BPF program tests, integration tests
#   make demo       two namespace hosts negotiating tcpcrypt, end to end
#   make demo-auth  tcpcrypt-cat authenticating the session ID; a man in the middle caught
#   make fuzz       run every libFuzzer target for FUZZ_TIME seconds each
#   make bench      tcpcrypt beside plain TCP, stunnel4 and wireguard-go in the test bed
#                   (BENCH=bulk,short,attach,idle,burst,auth RUNS=5 PEERS=...: tests/bench.sh)
#   make bench-crypto  protocol-core micro-benchmarks beside `openssl speed`
#   make deps       install the Debian packages needed (idempotent)

BUILD     ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
FUZZ_TIME ?= 60
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

WARN      := -Wall -Wextra -Werror
CFLAGS    ?= -O2 -g
CFLAGS    += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iagent -Itools/lib -Itools/auth -I$(BUILD)
# loop idioms would become memcpy/memmove calls, which BPF cannot make
BPF_CFLAGS := -O2 -g -target bpf -mllvm -disable-loop-idiom-all -D__TARGET_ARCH_$(ARCH) $(WARN) \
	-Iinclude -I$(BUILD)
# each object's header dependencies, written while compiling it (included below)
DEPFLAGS  := -MMD -MP
SAN       := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

CORE_SRCS  := $(wildcard agent/core/*.c agent/dp/*.c)
CORE_OBJS  := $(CORE_SRCS:%.c=$(BUILD)/%.o)
CORE_SOBJS := $(CORE_SRCS:%.c=$(BUILD)/asan/%.o)
ULIB_SRCS  := $(wildcard tools/lib/*.c)
ULIB_OBJS  := $(ULIB_SRCS:%.c=$(BUILD)/%.o)
BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
SKELS      := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/%.skel.h)
AGENT_SRCS := $(wildcard agent/*.c)
AGENT_OBJS := $(AGENT_SRCS:%.c=$(BUILD)/%.o)
CTL_SRCS   := $(wildcard tools/ctl/*.c)
CTL_OBJS   := $(CTL_SRCS:%.c=$(BUILD)/%.o)
PROXY_SRCS := $(wildcard tools/proxy/*.c)
PROXY_OBJS := $(PROXY_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_HDRS  := $(wildcard tests/unit/*.h)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_SBINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/asan/tests/%)
BPFT_SRCS  := $(wildcard tests/bpf/test_*.c)
BPFT_BINS  := $(BPFT_SRCS:tests/bpf/%.c=$(BUILD)/tests/bpf/%)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
TOOL_BINS  := $(BUILD)/tests/nfq_netem $(BUILD)/tests/sessid_peer $(BUILD)/tests/sko_echo \
	$(BUILD)/tests/flow_flag
# libtcpcrypt (lib/): the application library, static and shared (PIC objects apart)
LIBTC_SRCS := $(wildcard lib/*.c)
LIBTC_OBJS := $(LIBTC_SRCS:%.c=$(BUILD)/%.o)
LIBTC_PICS := $(LIBTC_SRCS:%.c=$(BUILD)/pic/%.o)
LIBTC_SONAME := libtcpcrypt.so.0
LIBTC      := $(BUILD)/libtcpcrypt.a $(BUILD)/$(LIBTC_SONAME) $(BUILD)/libtcpcrypt.pc
PREFIX     ?= /usr/local
HDRS       := $(wildcard include/*.h include/tcpcrypt/*.h agent/*.h agent/*/*.h tools/lib/*.h tools/auth/*.h)
DEPS       := $(patsubst %.o,%.d,$(CORE_OBJS) $(CORE_SOBJS) $(ULIB_OBJS) $(AGENT_OBJS) \
	$(CTL_OBJS) $(BPF_OBJS) $(LIBTC_OBJS) $(LIBTC_PICS) $(BUILD)/tools/cat/tcpcrypt-cat.o \
	$(BUILD)/tools/auth/authopt.o $(PROXY_OBJS))

LIBS       := -lbpf -lxdp -lelf -lz -lcrypto

# What --version prints: the tree's git description, or VERSION=... (a tree without git)
VERSION    ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)

.PHONY: all deps check unit unit-asan bpf-test integration demo demo-auth fuzz fuzz-replay bench bench-crypto \
	bench-sockopt bench-auth \
	clean format format-check \
	install FORCE
.DEFAULT_GOAL := all
# keep BPF objects and skeletons: they are intermediate files, but useful
.SECONDARY:
# a recipe that fails leaves no half-written target behind
.DELETE_ON_ERROR:

all: $(BUILD)/tcpcryptd $(BUILD)/tcpcryptctl $(BUILD)/tcpcrypt-cat $(BUILD)/libtccore.a $(LIBTC) \
	$(TOOL_BINS) $(BUILD)/tcpcrypt-proxy

deps:
	@tools/install-deps.sh
	@tools/prepare-host.sh

$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

# only the loader includes the BPF skeletons: a BPF edit rebuilds it alone
$(BUILD)/agent/bpf_setup.o: $(SKELS)

# rewritten only when the version changes, so that only the two programs' mains rebuild
$(BUILD)/version.h: FORCE
	@mkdir -p $(@D)
	@echo '#define TCPCRYPT_VERSION "$(VERSION)"' > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/agent/tcpcryptd.o $(BUILD)/tools/ctl/tcpcryptctl.o $(BUILD)/tools/cat/tcpcrypt-cat.o: \
	$(BUILD)/version.h
$(BUILD)/tools/proxy/tcpcrypt-proxy.o: $(BUILD)/version.h

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $(DEPFLAGS) -c $< -o $@

$(BUILD)/libtccore.a: $(CORE_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libtcpcrypt.a: $(LIBTC_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -fvisibility=default $(DEPFLAGS) -c $< -o $@

$(BUILD)/$(LIBTC_SONAME): $(LIBTC_PICS)
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(LIBTC_SONAME) -o $@ $^ -lcrypto
	ln -sf $(LIBTC_SONAME) $(BUILD)/libtcpcrypt.so

$(BUILD)/libtcpcrypt.pc: lib/libtcpcrypt.pc.in FORCE
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/asan/libtccore.a: $(CORE_SOBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tcpcryptd: $(AGENT_OBJS) $(ULIB_OBJS) $(BUILD)/libtccore.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tcpcryptctl: $(CTL_OBJS) $(ULIB_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ -lbpf -lelf -lz

# netcat with session-ID authentication (docs/auth.md), on libtcpcrypt alone
$(BUILD)/tcpcrypt-cat: $(BUILD)/tools/cat/tcpcrypt-cat.o $(BUILD)/tools/auth/authopt.o \
		$(BUILD)/libtcpcrypt.a
	$(CC) $(CFLAGS) -o $@ $^ -lcrypto

$(BUILD)/tests/%: tests/unit/%.c tests/unit/t_main.c $(UNIT_HDRS) $(BUILD)/libtccore.a \
		$(BUILD)/libtcpcrypt.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< tests/unit/t_main.c $(BUILD)/libtccore.a \
		$(BUILD)/libtcpcrypt.a -lcrypto

# tcpcrypt-cat's authentication in front of unmodified services (docs/auth.md#tcpcrypt-proxy)
$(BUILD)/tcpcrypt-proxy: $(PROXY_OBJS) $(BUILD)/tools/auth/authopt.o $(BUILD)/libtcpcrypt.a
	$(CC) $(CFLAGS) -o $@ $^ -lcrypto -lpthread

# the proxy's helpers are tool code, built into their test
$(BUILD)/tests/test_proxy $(BUILD)/asan/tests/test_proxy: $(wildcard tools/proxy/*.c tools/proxy/*.h)

# the key pool is agent code, built into its test
$(BUILD)/tests/test_keypool $(BUILD)/asan/tests/test_keypool: agent/keypool.c

# BPF programs run in the kernel with BPF_PROG_TEST_RUN (root): they load the skeletons
$(BUILD)/tests/bpf/%: tests/bpf/%.c tests/bpf/bpf_test.c tests/bpf/bpf_test.h tests/unit/t_main.c \
		$(UNIT_HDRS) $(SKELS) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -Itests/bpf -o $@ $< tests/bpf/bpf_test.c tests/unit/t_main.c \
		-lbpf -lelf -lz

# an unmodified-but-for-getsockopt C client and server, linked with libtcpcrypt (test_37)
$(BUILD)/tests/sessid_peer: tests/tools/sessid_peer.c $(BUILD)/libtcpcrypt.a include/tcpcrypt/tcpcrypt.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libtcpcrypt.a

# delay, reorder and tamper for the test bed where sch_netem is missing (tests/lib/testbed.sh)
$(BUILD)/tests/nfq_netem: tests/tools/nfq_netem.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lnetfilter_queue

# one echo connection from a socket with SKO_NO_RESUME in sk_opts (test_41)
$(BUILD)/tests/sko_echo: tests/tools/sko_echo.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lbpf

# set a flow_flags bit in the flow entries of a local port, as the socket-option hooks do (test_41)
$(BUILD)/tests/flow_flag: tests/tools/flow_flag.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lbpf

$(BUILD)/asan/tests/%: tests/unit/%.c tests/unit/t_main.c $(UNIT_HDRS) $(BUILD)/asan/libtccore.a \
		$(LIBTC_SRCS) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -Itests/unit -o $@ $< tests/unit/t_main.c $(LIBTC_SRCS) \
		$(BUILD)/asan/libtccore.a -lcrypto

$(BUILD)/fuzz/%: tests/fuzz/%.c $(CORE_SRCS) $(HDRS)
	@mkdir -p $(@D)
	$(CLANG) -O1 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude -Iagent \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(CORE_SRCS) -lcrypto

# the auth parsers are libtcpcrypt's (lib/)
$(BUILD)/fuzz/fuzz_auth: tests/fuzz/fuzz_auth.c tests/fuzz/fuzz_common.h $(LIBTC_SRCS) $(HDRS)
	@mkdir -p $(@D)
	$(CLANG) -O1 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude -Iagent \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(LIBTC_SRCS) -lcrypto

unit: $(UNIT_BINS)
	@tests/run-tests.sh unit $(UNIT_BINS)

unit-asan: $(UNIT_SBINS)
	@tests/run-tests.sh unit-asan $(UNIT_SBINS)

# as root: the BPF programs on crafted packets (BPF_PROG_TEST_RUN), verifier instruction counts
bpf-test: $(BPFT_BINS)
	@tests/run-tests.sh bpf-test $(BPFT_BINS)

integration: all
	@tests/run-tests.sh integration $(sort $(wildcard tests/integration/test_*.sh))

check: deps format-check
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(UNIT_SBINS) $(BPFT_BINS) $(FUZZ_BINS)
	@FUZZ_BIN_DIR=$(BUILD)/fuzz tests/run-tests.sh check $(UNIT_BINS) $(UNIT_SBINS) $(BPFT_BINS) \
		tests/fuzz/replay-corpus.sh \
		$(sort $(wildcard tests/integration/test_*.sh))

fuzz: deps $(FUZZ_BINS)
	@tests/fuzz/run-fuzz.sh $(FUZZ_TIME) $(FUZZ_BINS)

demo: deps all
	@tests/demo.sh

# tcpcrypt-cat with a pre-shared key, then a man in the middle caught (docs/auth.md)
demo-auth: deps all
	@tests/demo-auth.sh

bench: deps all $(BUILD)/authbench
	@tools/install-deps.sh bench
	@python3 tests/lib/test_benchreport.py -q
	@tests/bench.sh

bench-crypto: deps $(BUILD)/bench_crypto
	@tests/bench-crypto.sh $(BUILD)/bench_crypto

# as root: what the application API's sockopt programs cost other options (docs/machine-facts.md)
bench-sockopt: $(BUILD)/bench_sockopt
	@$(BUILD)/bench_sockopt

$(BUILD)/bench_sockopt: tests/bench/bench_sockopt.c $(BUILD)/sockopt.skel.h $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lbpf -lelf -lz

# CPU per connection of each session-ID authentication scheme, batch amortisation
bench-auth: $(BUILD)/bench_auth
	@$(BUILD)/bench_auth

$(BUILD)/bench_auth: tests/bench/bench_auth.c $(BUILD)/libtcpcrypt.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libtcpcrypt.a -lcrypto

# connect + authenticated first byte, client and server, for make bench's auth section
$(BUILD)/authbench: tests/bench/authbench.c $(BUILD)/libtcpcrypt.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libtcpcrypt.a -lcrypto -lpthread

$(BUILD)/bench_crypto: tests/bench/bench_crypto.c $(BUILD)/libtccore.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libtccore.a -lcrypto

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h') && echo "format-check: clean"

# every fuzz target once over its seed corpus (-runs=0)
fuzz-replay: $(FUZZ_BINS)
	@tests/fuzz/replay-corpus.sh $(FUZZ_BINS)

install: all
	install -D -m 0644 include/tcpcrypt/tcpcrypt.h $(DESTDIR)$(PREFIX)/include/tcpcrypt/tcpcrypt.h
	install -D -m 0644 include/tcpcrypt/auth.h $(DESTDIR)$(PREFIX)/include/tcpcrypt/auth.h
	install -D -m 0644 $(BUILD)/libtcpcrypt.a $(DESTDIR)$(PREFIX)/lib/libtcpcrypt.a
	install -D -m 0755 $(BUILD)/$(LIBTC_SONAME) $(DESTDIR)$(PREFIX)/lib/$(LIBTC_SONAME)
	ln -sf $(LIBTC_SONAME) $(DESTDIR)$(PREFIX)/lib/libtcpcrypt.so
	install -D -m 0644 $(BUILD)/libtcpcrypt.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/libtcpcrypt.pc
	install -D -m 0644 tools/man/tcpcrypt.7 $(DESTDIR)$(PREFIX)/share/man/man7/tcpcrypt.7
	install -D -m 0644 tools/man/libtcpcrypt.3 $(DESTDIR)$(PREFIX)/share/man/man3/libtcpcrypt.3
	install -D -m 0755 $(BUILD)/tcpcrypt-cat $(DESTDIR)$(PREFIX)/bin/tcpcrypt-cat
	install -D -m 0644 tools/man/tcpcrypt-cat.1 $(DESTDIR)$(PREFIX)/share/man/man1/tcpcrypt-cat.1
	install -D -m 0755 $(BUILD)/tcpcrypt-proxy $(DESTDIR)$(PREFIX)/bin/tcpcrypt-proxy
	install -D -m 0644 tools/man/tcpcrypt-proxy.1 \
		$(DESTDIR)$(PREFIX)/share/man/man1/tcpcrypt-proxy.1
	install -D -m 0644 tools/completion/tcpcrypt-proxy \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/tcpcrypt-proxy
	install -D -m 0644 tools/completion/tcpcrypt-cat \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/tcpcrypt-cat
	install -D -m 0755 $(BUILD)/tcpcryptd $(DESTDIR)/usr/local/sbin/tcpcryptd
	install -D -m 0755 $(BUILD)/tcpcryptctl $(DESTDIR)/usr/local/sbin/tcpcryptctl
	install -D -m 0644 tools/man/tcpcryptd.8 $(DESTDIR)/usr/local/share/man/man8/tcpcryptd.8
	install -D -m 0644 tools/man/tcpcryptctl.8 $(DESTDIR)/usr/local/share/man/man8/tcpcryptctl.8
	install -D -m 0644 tools/systemd/tcpcryptd.service \
		$(DESTDIR)/usr/local/lib/systemd/system/tcpcryptd.service
	install -D -m 0644 tools/completion/tcpcryptd \
		$(DESTDIR)/usr/local/share/bash-completion/completions/tcpcryptd
	install -D -m 0644 tools/completion/tcpcryptctl \
		$(DESTDIR)/usr/local/share/bash-completion/completions/tcpcryptctl

clean:
	rm -rf $(BUILD)

-include $(DEPS)
