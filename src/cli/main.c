/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c: lockwarden's entry point: parse, set up, loop. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config-file.h"
#include "control.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "options.h"
#include "verbs.h"

/* "lockwarden --socket PATH --json status": the operator's commands take their common
 * options before the verb too. Returns the verb's index when only those come before it
 * (and it is a verb), else 0. */
static int verb_after_options(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                if (verb_known(argv[i]))
                        return i;
                if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--no-legend") == 0 ||
                    strncmp(argv[i], "--socket=", 9) == 0)
                        continue;
                if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
                        i++;
                        continue;
                }
                return 0;
        }
        return 0;
}

int main(int argc, char **argv) {
        RunOptions o = {}, eff = {};
        Manager *m = NULL;
        char err[1024];
        bool read;
        Command cmd;
        int r;

        /* Removal holds a read lease (cleanup.c): a process opening the lock for writing
         * meanwhile makes the kernel send SIGIO, whose default would end us. We give the lease
         * back within microseconds anyway; the signal says nothing we need. (Before any verb:
         * scan --fix removes too.) */
        (void) signal(SIGIO, SIG_IGN);

        if (argc > 1 && verb_known(argv[1]))
                return verb_main(argc, argv);
        int v = argc > 2 && argv[1][0] == '-' ? verb_after_options(argc, argv) : 0;
        if (v > 1) {
                /* The verb first, then the options that came before it, then the rest. */
                char *verb = argv[v];
                memmove(argv + 2, argv + 1, (size_t) (v - 1) * sizeof(char *));
                argv[1] = verb;
                return verb_main(argc, argv);
        }
        if (argc > 1 && argv[1][0] != '-' && strcmp(argv[1], "run") != 0) {
                const char *meant = verb_suggest(argv[1]);

                if (strcmp(argv[1], "help") == 0) {
                        /* "lockwarden help events": that command's own help. */
                        if (argc > 2 && (verb_known(argv[2]) || strcmp(argv[2], "run") == 0)) {
                                if (strcmp(argv[2], "run") == 0)
                                        options_help();
                                else
                                        verb_help(argv[2]);
                                return 0;
                        }
                        options_help();
                        printf("\n");
                        verbs_help();
                        return 0;
                }
                if (strcmp(argv[1], "version") == 0) {
                        printf("lockwarden %s\n", PACKAGE_VERSION);
                        return 0;
                }
                if (meant) {
                        fprintf(stderr, "lockwarden: unknown command '%s' (did you mean '%s'?); see 'lockwarden --help'\n",
                                argv[1], meant);
                        return 2;
                }
        }
        r = options_parse(argc, argv, &cmd, &o);
        if (r < 0)
                return r == -EINVAL ? 2 : 1;
        switch (cmd) {
        case COMMAND_HELP:
                options_help();
                /* run --help is run's own; lockwarden --help lists the other commands too. */
                if (argc > 1 && strcmp(argv[1], "run") == 0)
                        return 0;
                printf("\n");
                verbs_help();
                return 0;
        case COMMAND_VERSION:
                printf("lockwarden %s\n", PACKAGE_VERSION);
                return 0;
        case COMMAND_RUN:
                break;
        }

        /* The command line, then the configuration file for what it did not say. */
        r = config_build(&o, &eff, &read, err, sizeof(err));
        if (r < 0) {
                log_error("%s", err);
                options_done(&o);
                return r == -ENOMEM ? 1 : 2;
        }
        if (o.check_config) {
                /* The verdict on standard error, the effective configuration (the file with
                 * the command line applied) as JSON on standard output. */
                json_t *j = config_to_json(&eff);

                /* The socket `run` would serve, the default worked out as the daemon does. */
                if (j && !eff.socket_path) {
                        _cleanup_free_ char *dflt = control_default_path(true);
                        json_object_set_new(j, "socket", dflt ? json_string(dflt) : json_null());
                }

                if (read)
                        fprintf(stderr, "%s: ok\n", o.config_path ? o.config_path : DEFAULT_CONFIG_PATH);
                else
                        fprintf(stderr, "%s: not present: the command line and the defaults apply\n",
                                DEFAULT_CONFIG_PATH);
                if (j)
                        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                printf("\n");
                r = j ? 0 : 1;
                json_decref(j);
                options_done(&eff);
                options_done(&o);
                return r;
        }

        r = manager_new(&o, &eff, &m);
        if (r < 0) {
                log_error_errno(r, "cannot start: %m");
                options_done(&eff);
                options_done(&o);
                return 1;
        }
        r = manager_startup(m);
        if (r >= 0)
                r = manager_run(m);
        manager_free(m); /* owns eff now */
        options_done(&o);
        return r < 0 ? 1 : 0;
}
