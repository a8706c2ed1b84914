// SPDX-License-Identifier: MIT
/*
 * Verifier complexity of every BPF program: the instructions the verifier
 * processed to load it (bpf_prog_info.verified_insns), against the figures
 * recorded in tests/bpf/insn-counts.txt.  Growth by more than a tenth
 * prints a WARNING, not a failure: it depends on the compiler and the
 * kernel, and the verifier's budget is a million instructions, but a
 * change that grows a program that much should say why.
 *
 * Record the current figures: TC_INSN_COUNTS_WRITE=1 build/tests/bpf/test_insns
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include "bpf_test.h"
#include "capture.skel.h"
#include "iter.skel.h"
#include "sockops.skel.h"
#include "sockopt.skel.h"
#include "tc.skel.h"
#include "t.h"

#define INSN_FILE    "tests/bpf/insn-counts.txt"
#define MAX_PROGS    16
#define GROWTH_LIMIT 10 /* percent */

struct count {
	char name[64];
	unsigned long insns;
};

static int measure(struct bpf_object *obj, struct count *c, int *n)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj)
	{
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);

		if (*n >= MAX_PROGS)
			return -1;
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len)) {
			fprintf(stderr, "  bpf_obj_get_info_by_fd(%s): %s\n",
				bpf_program__name(prog), strerror(errno));
			return -1;
		}
		snprintf(c[*n].name, sizeof(c[*n].name), "%s", bpf_program__name(prog));
		c[*n].insns = info.verified_insns;
		(*n)++;
	}
	return 0;
}

/* Load each skeleton (nothing pinned), measure its programs, unload it. */
#define MEASURE(skel_name, c, n)                                                                   \
	({                                                                                         \
		struct skel_name *s_ = skel_name##__open();                                        \
		int err_ = !s_ || bt_unpin(s_->obj) || skel_name##__load(s_) ||                    \
			   measure(s_->obj, (c), (n));                                             \
		if (err_)                                                                          \
			fprintf(stderr, "  loading %s failed\n", #skel_name);                      \
		skel_name##__destroy(s_);                                                          \
		err_;                                                                              \
	})

static int record(const char *path, const struct count *c, int n)
{
	FILE *f = fopen(path, "w");
	struct utsname u;

	if (!f)
		return -1;
	uname(&u);
	fprintf(f, "# Instructions the verifier processed per BPF program (verified_insns),\n");
	fprintf(f, "# kernel %s; tests/bpf/test_insns warns when one grows by more than %d%%.\n",
		u.release, GROWTH_LIMIT);
	fprintf(f, "# Re-record: TC_INSN_COUNTS_WRITE=1 build/tests/bpf/test_insns\n");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s %lu\n", c[i].name, c[i].insns);
	return fclose(f);
}

/* The recorded figure of name, or 0 if there is none. */
static unsigned long recorded(FILE *f, const char *name)
{
	char line[256], rname[64];
	unsigned long insns;

	rewind(f);
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && sscanf(line, "%63s %lu", rname, &insns) == 2 &&
		    !strcmp(rname, name))
			return insns;
	return 0;
}

T(verifier_insn_counts)
{
	const char *path = getenv("TC_INSN_COUNTS") ? getenv("TC_INSN_COUNTS") : INSN_FILE;
	struct count c[MAX_PROGS];
	int n = 0;
	FILE *f;

	bt_need_root();
	CHECK_EQ(MEASURE(tc_bpf, c, &n), 0);
	CHECK_EQ(MEASURE(capture_bpf, c, &n), 0);
	CHECK_EQ(MEASURE(sockops_bpf, c, &n), 0);
	CHECK_EQ(MEASURE(iter_bpf, c, &n), 0);
	CHECK_EQ(MEASURE(sockopt_bpf, c, &n), 0);
	CHECK(n >= 5);
	if (getenv("TC_INSN_COUNTS_WRITE")) {
		CHECK_EQ(record(path, c, n), 0);
		printf("recorded %d programs in %s\n", n, path);
		return;
	}
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f) {
		fprintf(stderr, "  %s: %s\n", path, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		unsigned long was = recorded(f, c[i].name);

		CHECK(c[i].insns > 0);
		if (!was)
			printf("WARNING: %s: %lu verified instructions, none recorded in %s\n",
			       c[i].name, c[i].insns, path);
		else if (c[i].insns * 100 > was * (100 + GROWTH_LIMIT))
			printf("WARNING: %s: %lu verified instructions, %lu recorded: +%lu%%\n",
			       c[i].name, c[i].insns, was, (c[i].insns - was) * 100 / was);
		else
			printf("  %s: %lu verified instructions (%lu recorded)\n", c[i].name,
			       c[i].insns, was);
	}
	fclose(f);
}
