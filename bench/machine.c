/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* machine: prints the line bench_machine() gives every results file (the date, the machine,
 * the commit, the machine's speed), for the parts written by scripts (bench/idle.sh, the
 * goals summary).
 *
 *   machine                                                    (root; LW_BUILDDIR) */
#include <stdio.h>

#include "bench-util.h"
#include "lwtest.h"

int main(void) {
        char machine[1024];

        lw_require_root();
        bench_machine(machine, sizeof(machine));
        puts(machine);
        return 0;
}
