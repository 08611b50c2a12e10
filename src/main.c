/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c: lockwarden's entry point: parse, set up, loop. */
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "options.h"
#include "verbs.h"

int main(int argc, char **argv) {
        RunOptions o = {};
        Manager *m = NULL;
        Command cmd;
        int r;

        if (argc > 1 && verb_known(argv[1]))
                return verb_main(argc, argv);
        r = options_parse(argc, argv, &cmd, &o);
        if (r < 0)
                return r == -EINVAL ? 2 : 1;
        switch (cmd) {
        case COMMAND_HELP:
                options_help();
                printf("\n");
                verbs_help();
                return 0;
        case COMMAND_VERSION:
                printf("lockwarden %s\n", PACKAGE_VERSION);
                return 0;
        case COMMAND_RUN:
                break;
        }

        if (o.n_state_dirs == 0 && o.n_watch_dirs == 0) {
                char *d;

                r = options_default_state_dir(&d);
                if (r < 0) {
                        log_error("no --state-dir or --watch given and no home directory to default to");
                        options_done(&o);
                        return 2;
                }
                o.state_dirs = malloc(sizeof(char *));
                if (!o.state_dirs) {
                        free(d);
                        options_done(&o);
                        return 1;
                }
                o.state_dirs[0] = d;
                o.n_state_dirs = 1;
        }

        r = manager_new(&o, &m);
        if (r < 0) {
                log_error_errno(r, "cannot start: %m");
                options_done(&o);
                return 1;
        }
        r = manager_startup(m);
        if (r >= 0)
                r = manager_run(m);
        manager_free(m);
        options_done(&o);
        return r < 0 ? 1 : 0;
}
