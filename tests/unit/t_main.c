/* SPDX-License-Identifier: MIT */
/* Runner for the unit-test harness in t.h; linked into every unit-test binary. */
#include "t.h"

struct t_case *t_cases;
int t_failed_checks;

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	const char *only = argc > 1 ? argv[1] : NULL;

	for (struct t_case *c = t_cases; c; c = c->next) {
		int before = t_failed_checks;

		if (only && strcmp(only, c->name) != 0)
			continue;
		c->fn();
		if (t_failed_checks == before) {
			printf("ok - %s\n", c->name);
			passed++;
		} else {
			printf("not ok - %s\n", c->name);
			failed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
